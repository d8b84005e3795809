"""Verifies the DKIM signature of a message with dkimpy, as a receiver's milter would.

Usage: dkim_verify.py MESSAGE_FILE SELECTOR_NAME RECORD
The public key is not looked up in DNS: SELECTOR_NAME (s._domainkey.domain) answers RECORD.
Prints "pass" and exits 0, or prints why not and exits 1.
"""

import logging
import sys

import dkim


def main() -> int:
    path, name, record = sys.argv[1:4]
    with open(path, "rb") as f:
        message = f.read()

    def dnsfunc(asked, timeout=5):
        asked = asked.decode() if isinstance(asked, bytes) else asked
        return record.encode() if asked.rstrip(".") == name.rstrip(".") else None

    log = logging.getLogger("dkim")
    logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, format="%(message)s")
    if dkim.verify(message, logger=log, dnsfunc=dnsfunc):
        print("pass")
        return 0
    print("fail")
    return 1


if __name__ == "__main__":
    sys.exit(main())
