#!/usr/bin/env bash
# A private Postfix instance in front of nonono, as README's production section sets one up:
# it takes mail for nonono.localhost on 127.0.0.1:FRONT and relays it to nonono on
# 127.0.0.1:BACK with XFORWARD, retrying every second or two while nonono is down.
#   postfix.sh start DIR FRONT BACK
#   postfix.sh stop DIR
#   postfix.sh flush DIR    (deliver what is queued now, as `postqueue -f`)
# Runs as root (Postfix's master does); its log is DIR/maillog. For the smarthost benchmark,
# RELAY_TRANSPORT=discard: makes it a sink for mail to elisa.example too, and TLS_CERT and
# TLS_KEY make it offer STARTTLS. MAILDIR=1 makes it nonono's smarthost instead: mail to
# elisa.example is delivered into DIR/mail/elisa/ (a Maildir), its delivery reports go back to
# nonono on BACK, and mail anywhere else is dropped.
set -euo pipefail
action=$1 dir=$2
if [ "$action" = stop ]; then
    postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
    exit 0
fi
if [ "$action" = flush ]; then
    postqueue -c "$dir/etc" -f
    exit 0
fi
front=$3 back=$4
command -v postfix >/dev/null || { echo "postfix is not installed (apt-get install postfix)" >&2; exit 1; }
mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
# Postfix's daemons run as postfix and must reach the queue: a test's folder is private.
chmod 755 "$dir"
chown postfix "$dir/data" "$dir/mail"
relay_domains="nonono.localhost elisa.example"
maildir=""
if [ -n "${MAILDIR:-}" ]; then
    relay_domains="nonono.localhost"
    maildir="virtual_mailbox_domains = elisa.example
virtual_mailbox_base = $dir/mail
virtual_mailbox_maps = static:elisa/
virtual_uid_maps = static:$(id -u postfix)
virtual_gid_maps = static:$(id -g postfix)
default_transport = discard"
fi
tls_level=none
[ -n "${TLS_CERT:-}" ] && tls_level=may
cat > "$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx-front.test
mydestination =
alias_maps =
alias_database =
local_recipient_maps =
relay_domains = $relay_domains
$maildir
# Mail for relay_domains goes by relay_transport: to nonono.
relay_transport = ${RELAY_TRANSPORT:-smtp:[127.0.0.1]:$back}
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
# What README asks of a front MTA: name each original client to nonono.
smtp_send_xforward_command = yes
smtp_tls_security_level = none
smtpd_tls_security_level = $tls_level
${TLS_CERT:+smtpd_tls_cert_file = $TLS_CERT}
${TLS_CERT:+smtpd_tls_key_file = $TLS_KEY}
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
CF
cat > "$dir/etc/master.cf" <<CF
127.0.0.1:$front inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
tlsmgr    unix  - - n 1000? 1 tlsmgr
cleanup   unix  n - n -  0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n -  - trivial-rewrite
bounce    unix  - - n -  0 bounce
defer     unix  - - n -  0 bounce
trace     unix  - - n -  0 bounce
verify    unix  - - n -  1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n -  - proxymap
smtp      unix  - - n -  - smtp
relay     unix  - - n -  - smtp
showq     unix  n - n -  - showq
error     unix  - - n -  - error
retry     unix  - - n -  - error
discard   unix  - - n -  - discard
virtual   unix  - n n -  - virtual
anvil     unix  - - n -  1 anvil
scache    unix  - - n -  1 scache
postlog   unix-dgram n - n - 1 postlogd
CF
postfix -c "$dir/etc" check
postfix -c "$dir/etc" start >/dev/null 2>&1 || { cat "$dir/maillog" >&2; exit 1; }
