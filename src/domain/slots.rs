//! Connections open per client address and per network, so that one host, or many addresses
//! of one network, cannot take every connection of the SMTP receiver or the web archive.

use std::net::IpAddr;
use std::sync::Arc;

/// Connections open per key: a client address, or a network as [`network`] names it.
#[derive(Default)]
pub struct Slots(std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>);

/// One connection's place in [`Slots`]; given back when dropped.
pub struct Slot {
    table: Arc<Slots>,
    ip: IpAddr,
}

impl Slots {
    /// A place for one more connection under `key`, unless `most` are open; given back when
    /// the [`Slot`] is dropped.
    pub fn take(table: &Arc<Slots>, ip: IpAddr, most: usize) -> Option<Slot> {
        let mut open = table.0.lock().expect("slots lock");
        let n = open.entry(ip).or_default();
        if *n >= most {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: table.clone(),
            ip,
        })
    }
}

/// The network an address belongs to, as one address: its IPv4 /24 or its IPv6 /64. One
/// holder of a network has every address in it (an IPv6 /64 is the smallest a host gets).
pub fn network(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4((u32::from(v4) & 0xffff_ff00).into()),
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.table.0.lock().expect("slots lock");
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_is_an_ipv4_24_or_an_ipv6_64() {
        let n = |s: &str| network(s.parse().unwrap()).to_string();
        assert_eq!(n("192.0.2.77"), "192.0.2.0");
        assert_eq!(n("::ffff:192.0.2.77"), "192.0.2.0");
        assert_eq!(n("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
        let table = Arc::new(Slots::default());
        let key = network("192.0.2.1".parse().unwrap());
        let first = Slots::take(&table, key, 1).expect("one");
        assert!(Slots::take(&table, key, 1).is_none());
        drop(first);
        assert!(Slots::take(&table, key, 1).is_some(), "given back");
    }
}
