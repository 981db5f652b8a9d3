#!/usr/bin/env python3
"""A real SMTP server on loopback for klaxon-notify's e-mail tests (aiosmtpd).

Listens on 127.0.0.1 on a free port and prints `PORT <n>` as its first stdout line, then
one JSON object per accepted message: {"mail_from", "rcpt_tos", "login", "data"}.
Recipients starting with `reject` get `550`, with `busy` get `451`.
`--auth user:password` requires AUTH (allowed without TLS, for the test only).
"""
import asyncio
import json
import sys

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:
    print("aiosmtpd is not installed; run: python3 -m pip install aiosmtpd", file=sys.stderr)
    sys.exit(3)


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("reject"):
            return "550 5.1.1 No such user here"
        if address.startswith("busy"):
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data
        if isinstance(login, bytes):
            login = login.decode()
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "data": envelope.content.decode("utf-8", "replace"),
        }
        print(json.dumps(record), flush=True)
        return "250 Message accepted for delivery"


def authenticator_for(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        if not ok:
            # handled=False makes aiosmtpd answer 535 itself.
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data.login)

    return authenticate


async def main():
    options = {}
    if len(sys.argv) == 3 and sys.argv[1] == "--auth":
        user, password = sys.argv[2].split(":", 1)
        options = {
            "authenticator": authenticator_for(user, password),
            "auth_required": True,
            "auth_require_tls": False,
        }
    handler = Handler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(handler, **options), "127.0.0.1", 0)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
