//! Which peers may speak for the clients they relay: a front MTA (Postfix with
//! `smtp_send_xforward_command = yes`) names the original client with `XFORWARD`, a proxy or a
//! test with `XCLIENT`. Only relays the operator trusts are believed; the client they name is
//! then the one that limits count, SPF judges and logs show.

use std::net::IpAddr;

/// An address, or a network as `address/prefix`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    /// `127.0.0.1`, `10.0.0.0/8`, `::1`, `2001:db8::/32`.
    pub fn parse(text: &str) -> Result<Network, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let base: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or a network such as 10.0.0.0/8"))?;
        let bits = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix must be 0 to {bits}"))?,
        };
        // `::ffff:10.0.0.4`, as a dual-stack socket shows an IPv4 peer, is that IPv4 address;
        // its prefix counts the 96 bits before it.
        if let (IpAddr::V6(_), IpAddr::V4(v4)) = (base, base.to_canonical()) {
            let prefix = prefix.checked_sub(96).ok_or_else(|| {
                format!("{text:?}: an IPv4 address written as IPv6 needs a prefix of 96 to 128")
            })?;
            return Ok(Network {
                base: IpAddr::V4(v4),
                prefix,
            });
        }
        Ok(Network { base, prefix })
    }

    /// Whether this network is too wide to be the front MTAs of one service (wider than an
    /// IPv4 /8 or an IPv6 /16): trusting it, anyone could name any client and pass any limit.
    pub fn is_too_wide(&self) -> bool {
        self.prefix < if self.base.is_ipv4() { 8 } else { 16 }
    }

    /// Whether `ip` is in this network (an IPv4 address written as IPv6 counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let mask = |bits: u32| -> u128 {
            if self.prefix == 0 {
                0
            } else {
                (!0u128 << (bits - u32::from(self.prefix))) & (!0u128 >> (128 - bits))
            }
        };
        match (self.base.to_canonical(), ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let m = mask(32);
                u128::from(u32::from(net)) & m == u128::from(u32::from(ip)) & m
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let m = mask(128);
                u128::from(net) & m == u128::from(ip) & m
            }
            _ => false,
        }
    }
}

/// The original client, as a trusted relay names it; what it does not name stays unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forwarded {
    pub addr: Option<IpAddr>,
    pub helo: Option<String>,
    pub name: Option<String>,
}

impl Forwarded {
    /// What `later` names, over what this named.
    pub fn and(self, later: Forwarded) -> Forwarded {
        Forwarded {
            addr: later.addr.or(self.addr),
            helo: later.helo.or(self.helo),
            name: later.name.or(self.name),
        }
    }
}

/// The attributes of `XFORWARD` or `XCLIENT` (`NAME=mx.example.fi ADDR=192.0.2.1 HELO=…`),
/// values in xtext (RFC 3461: `+2B` for `+`). `[UNAVAILABLE]` and `[TEMPUNAVAIL]` name
/// nothing; attributes we do not use are passed over; `known` are the ones the command has.
pub fn read_attributes(arguments: &str, known: &[&str]) -> Result<Forwarded, String> {
    let mut forwarded = Forwarded::default();
    for pair in arguments.split_ascii_whitespace() {
        let (name, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("{pair:?} is not NAME=value"))?;
        let name = name.to_ascii_uppercase();
        if !known.contains(&name.as_str()) {
            return Err(format!("unknown attribute {name}"));
        }
        let value = xtext(value).ok_or_else(|| format!("{name}: bad xtext"))?;
        if value == "[UNAVAILABLE]" || value == "[TEMPUNAVAIL]" {
            continue;
        }
        match name.as_str() {
            "ADDR" => {
                let bare = value
                    .get(..5)
                    .filter(|head| head.eq_ignore_ascii_case("IPV6:"))
                    .map_or(value.as_str(), |_| &value[5..]);
                let addr: IpAddr = bare
                    .parse()
                    .map_err(|_| format!("ADDR: {value:?} is not an address"))?;
                // `::ffff:1.2.3.4` is 1.2.3.4, for the limits and for SPF.
                forwarded.addr = Some(addr.to_canonical());
            }
            // A host name or an address literal, nothing else: it goes into the Received line
            // and SPF's HELO check as it is.
            "HELO" | "NAME" if !value.chars().all(is_host_char) => {
                return Err(format!("{name}: {value:?} is not a host name"));
            }
            "HELO" => forwarded.helo = Some(value),
            "NAME" => forwarded.name = Some(value),
            _ => {}
        }
    }
    Ok(forwarded)
}

/// A character of a host name, or of an address literal (`[192.0.2.1]`, `[IPv6:2001:db8::1]`).
fn is_host_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._:[]".contains(c)
}

/// xtext decoded, or `None` for a bad `+` escape or a control character in it.
fn xtext(value: &str) -> Option<String> {
    let mut out = Vec::with_capacity(value.len());
    let mut bytes = value.bytes();
    while let Some(b) = bytes.next() {
        if b == b'+' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    let text = String::from_utf8(out).ok()?;
    (!text.chars().any(char::is_control)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_addresses_or_prefixes() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let net = |s: &str| Network::parse(s).unwrap();
        assert!(net("127.0.0.1").contains(ip("127.0.0.1")));
        assert!(!net("127.0.0.1").contains(ip("127.0.0.2")));
        assert!(net("10.0.0.0/8").contains(ip("10.200.1.1")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert!(
            net("10.0.0.0/8").contains(ip("::ffff:10.1.2.3")),
            "v4 written as v6"
        );
        assert!(net("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!net("2001:db8::/32").contains(ip("2001:db9::5")));
        assert!(net("0.0.0.0/0").contains(ip("192.0.2.1")));
        assert!(!net("0.0.0.0/0").contains(ip("::1")));
        assert!(Network::parse("10.0.0.0/33").is_err());
        let mapped = net("::ffff:127.0.0.1");
        assert!(mapped.contains(ip("127.0.0.1")) && !mapped.contains(ip("127.0.0.9")));
        assert!(net("::ffff:10.0.0.0/104").contains(ip("10.9.9.9")));
        assert!(!net("::ffff:10.0.0.0/104").contains(ip("11.0.0.1")));
        assert!(Network::parse("::ffff:10.0.0.0/64").is_err());
        assert!(net("0.0.0.0/0").is_too_wide() && net("::/0").is_too_wide());
        assert!(!net("10.0.0.0/8").is_too_wide());
        assert!(Network::parse("mx.example.fi").is_err());
    }

    #[test]
    fn attributes_are_read_as_postfix_writes_them() {
        let known = ["NAME", "ADDR", "PROTO", "HELO", "IDENT", "SOURCE", "PORT"];
        let f = read_attributes(
            "NAME=mail.example.fi ADDR=IPV6:2001:db8::1 PROTO=ESMTP HELO=[UNAVAILABLE] SOURCE=REMOTE",
            &known,
        )
        .unwrap();
        assert_eq!(f.addr, Some("2001:db8::1".parse().unwrap()));
        assert_eq!(f.name.as_deref(), Some("mail.example.fi"));
        assert_eq!(f.helo, None);
        let helo = read_attributes("HELO=a+2Db addr=192.0.2.7", &known).unwrap();
        assert_eq!(helo.helo.as_deref(), Some("a-b"), "xtext");
        assert_eq!(helo.addr, Some("192.0.2.7".parse().unwrap()));
        assert!(read_attributes("ADDR=not-an-ip", &known).is_err());
        assert!(
            read_attributes("HELO=a+0Ab", &known).is_err(),
            "no line breaks"
        );
        assert!(read_attributes("LOGIN=x", &known).is_err());
        assert!(read_attributes("HELO", &known).is_err());
    }
}
