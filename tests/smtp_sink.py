#!/usr/bin/python3
"""A real SMTP server for the end-to-end tests (aiosmtpd, Debian's python3-aiosmtpd):
accepts every mail on 127.0.0.1:PORT and saves each one, as received (with the envelope in
X-Envelope-* lines first), to DIR/<n>.eml, written to a temporary name and renamed, so a
reader never sees half a file.

    /usr/bin/python3 tests/smtp_sink.py PORT DIR
"""
import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory):
        self.directory = directory
        existing = [int(n.split(".")[0]) for n in os.listdir(directory) if n.endswith(".eml")]
        self.counter = itertools.count(max(existing, default=0) + 1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        tmp = os.path.join(self.directory, f".{n}.tmp")
        with open(tmp, "wb") as f:
            f.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            for rcpt in envelope.rcpt_tos:
                f.write(f"X-Envelope-To: {rcpt}\r\n".encode())
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.directory, f"{n}.eml"))
        return f"250 2.0.0 Ok: queued as sink-{n}"


def main():
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    controller = Controller(Sink(directory), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"smtp sink on 127.0.0.1:{port} saving to {directory}", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
