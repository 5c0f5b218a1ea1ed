"""A real SMTP server for ghor's end-to-end tests: aiosmtpd on 127.0.0.1:PORT, writing every
message it accepts to a JSON file of its own in FOLDER (envelope recipients, Message-ID,
decoded subject and plain-text body, and the headers), written whole and then renamed so
a reader never sees half a message. An optional DELAY (seconds) slows each message down,
so a test can stop a sender in the middle of many. Prints "ready" once it listens.

    python3 tests/support/smtp_sink.py PORT FOLDER [DELAY]
"""

import asyncio
import email
import email.policy
import itertools
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, folder, delay):
        self.folder = folder
        self.delay = delay
        self.count = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        body = message.get_body(("plain",))
        record = {
            "to": envelope.rcpt_tos,
            "message_id": message["Message-ID"],
            "subject": str(message["Subject"]),
            "headers": {k: str(v) for k, v in message.items()},
            "body": body.get_content() if body is not None else "",
        }
        n = next(self.count)
        name = f"{os.getpid()}-{n}"
        tmp = os.path.join(self.folder, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, os.path.join(self.folder, f"{name}.json"))
        return "250 OK"


def main():
    port, folder = int(sys.argv[1]), sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    controller = Controller(Sink(folder, delay), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
