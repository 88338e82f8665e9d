#!/usr/bin/env python3
"""A TCP proxy that adds latency: every chunk is passed on RTT/2 after it
arrived, in each direction, in order, without holding up the chunks behind it
(so it behaves like a long, fat link, not a slow one). Bytes pass untouched, so
TLS and HTTP/2 go through end to end. Counts the connections it accepts.

    delay_proxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT RTT_MS [STATS_FILE]

STATS_FILE (if given) is rewritten with two lines after each change: the
connections accepted, and how many of them carried requests. The second reads
the TLS record headers the client sends (never their contents): after TLS 1.3's
handshake everything is an application-data record, the client's Finished is
the first, so a connection that sends a second one carried HTTP. It shows
connections that were opened and then dropped unused (hyper drops the extra
ones it raced when ALPN picks HTTP/2).
"""
import asyncio
import sys


class TlsRecords:
    """Counts the application-data records (type 23) in one direction."""

    def __init__(self):
        self.pending = b""
        self.app_data = 0

    def feed(self, data):
        self.pending += data
        while len(self.pending) >= 5:
            length = int.from_bytes(self.pending[3:5], "big")
            if len(self.pending) < 5 + length:
                break
            if self.pending[0] == 23:
                self.app_data += 1
            self.pending = self.pending[5 + length:]


async def pipe(reader, writer, delay, records=None, on_record=None):
    queue = asyncio.Queue()
    loop = asyncio.get_running_loop()

    async def send():
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data is None:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    sender = asyncio.create_task(send())
    try:
        while True:
            data = await reader.read(65536)
            if records is not None and data:
                records.feed(data)
                on_record()
            queue.put_nowait((loop.time() + delay, data or None))
            if not data:
                break
        await sender
    except (ConnectionError, OSError):
        sender.cancel()
    finally:
        writer.close()


async def main():
    listen, target, rtt_ms = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    stats = sys.argv[4] if len(sys.argv) > 4 else None
    host, port = target.rsplit(":", 1)
    one_way = rtt_ms / 2000.0
    connections = 0
    carried = set()

    def write_stats():
        if stats:
            with open(stats, "w") as f:
                f.write(f"{connections}\n{len(carried)}\n")

    async def handle(client_r, client_w):
        nonlocal connections
        connections += 1
        me = connections
        records = TlsRecords()

        def on_record():
            if records.app_data >= 2 and me not in carried:
                carried.add(me)
                write_stats()

        write_stats()
        # The TCP handshake to the server costs a round trip too.
        await asyncio.sleep(one_way * 2)
        try:
            server_r, server_w = await asyncio.open_connection(host, int(port))
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            pipe(client_r, server_w, one_way, records, on_record),
            pipe(server_r, client_w, one_way),
        )

    server = await asyncio.start_server(handle, "127.0.0.1", listen)
    print(f"delay proxy on 127.0.0.1:{listen} -> {target}, RTT {rtt_ms:g} ms", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
