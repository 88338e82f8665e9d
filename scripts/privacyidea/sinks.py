#!/usr/bin/env python3
"""Loopback sinks for privacyIDEA's outgoing messages, so tests can read them.

- SMTP: a minimal RFC 5321 receiver (no auth, no TLS). Each message is saved as
  <dir>/mail/<recipient>/<seq>.eml, with the raw DATA as privacyIDEA sent it.
- HTTP SMS gateway: any GET/POST is answered "OK" and saved as
  <dir>/sms/<phone>/<seq>.json ({"method", "path", "params"}), where the phone is
  the `phone` parameter privacyIDEA's HttpSMSProvider fills in.

Ports are chosen by the OS (bind to 0) and written to <dir>/ports as
`SMTP_PORT=... SMS_PORT=...` lines, so there is no race over "free" ports.
Only the standard library is used: smtpd is gone in Python 3.12 and aiosmtpd
would be one more download.
"""

import asyncio
import itertools
import json
import os
import re
import sys
import urllib.parse

SEQ = itertools.count(1)


def safe(name: str) -> str:
    # Recipients and phone numbers become directory names.
    return re.sub(r"[^A-Za-z0-9@.+_-]", "_", name.strip().strip("<>")) or "unknown"


def save(base: str, kind: str, who: str, suffix: str, data: bytes) -> None:
    folder = os.path.join(base, kind, safe(who))
    os.makedirs(folder, exist_ok=True)
    n = next(SEQ)
    tmp = os.path.join(folder, f".{n:06d}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    # Rename so a reader never sees a half-written message.
    os.replace(tmp, os.path.join(folder, f"{n:06d}{suffix}"))


async def smtp_session(base, reader, writer):
    async def reply(line: str):
        writer.write((line + "\r\n").encode())
        await writer.drain()

    await reply("220 secinfo-sink ESMTP")
    recipients = []
    try:
        while True:
            raw = await reader.readline()
            if not raw:
                break
            cmd = raw.decode("utf-8", "replace").rstrip("\r\n")
            verb = cmd[:4].upper()
            if verb in ("HELO", "EHLO"):
                await reply("250 secinfo-sink")
            elif verb == "MAIL":
                recipients = []
                await reply("250 OK")
            elif verb == "RCPT":
                recipients.append(cmd.split(":", 1)[1].strip() if ":" in cmd else "unknown")
                await reply("250 OK")
            elif verb == "DATA":
                await reply("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    line = await reader.readline()
                    if not line or line in (b".\r\n", b".\n"):
                        break
                    if line.startswith(b".."):
                        line = line[1:]
                    lines.append(line)
                body = b"".join(lines)
                for r in recipients or ["unknown"]:
                    save(base, "mail", r, ".eml", body)
                await reply("250 OK queued")
            elif verb == "RSET":
                recipients = []
                await reply("250 OK")
            elif verb == "NOOP":
                await reply("250 OK")
            elif verb == "QUIT":
                await reply("221 Bye")
                break
            else:
                await reply("502 Command not implemented")
    finally:
        writer.close()


async def http_session(base, reader, writer):
    try:
        request_line = (await reader.readline()).decode("latin-1").strip()
        parts = request_line.split(" ")
        if len(parts) < 2:
            return
        method, target = parts[0], parts[1]
        headers = {}
        while True:
            line = (await reader.readline()).decode("latin-1")
            if line in ("\r\n", "\n", ""):
                break
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b""
        length = int(headers.get("content-length", "0") or 0)
        if length:
            body = await reader.readexactly(length)
        url = urllib.parse.urlsplit(target)
        params = dict(urllib.parse.parse_qsl(url.query))
        if body:
            if "json" in headers.get("content-type", ""):
                try:
                    params.update(json.loads(body))
                except ValueError:
                    pass
            else:
                params.update(urllib.parse.parse_qsl(body.decode("utf-8", "replace")))
        record = {"method": method, "path": url.path, "params": params}
        save(base, "sms", str(params.get("phone", "unknown")), ".json", json.dumps(record).encode())
        payload = b"OK"
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n"
            + f"Content-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
    finally:
        writer.close()


async def main(base: str):
    os.makedirs(base, exist_ok=True)
    smtp = await asyncio.start_server(lambda r, w: smtp_session(base, r, w), "127.0.0.1", 0)
    sms = await asyncio.start_server(lambda r, w: http_session(base, r, w), "127.0.0.1", 0)
    smtp_port = smtp.sockets[0].getsockname()[1]
    sms_port = sms.sockets[0].getsockname()[1]
    tmp = os.path.join(base, ".ports.tmp")
    with open(tmp, "w") as f:
        f.write(f"SMTP_PORT={smtp_port}\nSMS_PORT={sms_port}\n")
    os.replace(tmp, os.path.join(base, "ports"))
    async with smtp, sms:
        await asyncio.gather(smtp.serve_forever(), sms.serve_forever())


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: sinks.py SINK_DIR")
    try:
        asyncio.run(main(sys.argv[1]))
    except KeyboardInterrupt:
        pass
