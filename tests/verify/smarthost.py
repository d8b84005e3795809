"""A smarthost we did not write: aiosmtpd, demanding TLS and authentication as hosted
smarthosts do (Amazon SES, Mailgun, Postmark, Microsoft 365).

Usage: smarthost.py OUT_DIR --tls starttls|implicit --cert CERT --key KEY --user U --password P
Prints "listening PORT" once it takes connections, then serves until killed. Each message is
written to OUT_DIR as N.json (envelope, whether it came over TLS, who authenticated) and N.eml.
"""

import argparse
import asyncio
import json
import os
import socket
import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Keep:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        base = os.path.join(self.out, str(self.n))
        with open(base + ".eml", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".json", "w") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_to": envelope.rcpt_tos,
                    # session.ssl is set by STARTTLS only; implicit TLS shows on the transport.
                    "tls": session.ssl is not None
                    or server.transport.get_extra_info("ssl_object") is not None,
                    "authenticated": session.authenticated,
                    "login": session.auth_data,
                },
                f,
            )
        return "250 2.0.0 OK kept"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--tls", choices=["starttls", "implicit"], required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    a = p.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(a.cert, a.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == a.user
            and auth_data.password.decode() == a.password
        )
        if ok:
            return AuthResult(success=True, auth_data=auth_data.login.decode())
        # handled=False: aiosmtpd answers 535 itself (with its default, it answers nothing).
        return AuthResult(success=False, handled=False)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    common = dict(hostname="127.0.0.1", port=port, authenticator=authenticate, auth_required=True)
    if a.tls == "starttls":
        controller = Controller(
            Keep(a.out), tls_context=context, require_starttls=True, auth_require_tls=True, **common
        )
    else:
        # Implicit TLS (port 465): the whole connection is TLS from the first byte, which
        # aiosmtpd's auth_require_tls does not know (it looks for STARTTLS).
        controller = Controller(Keep(a.out), ssl_context=context, auth_require_tls=False, **common)
    controller.start()
    print(f"listening {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    sys.exit(main())
