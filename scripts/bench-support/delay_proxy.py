#!/usr/bin/env python3
"""A TCP proxy that adds latency: every chunk is passed on RTT/2 after it
arrived, in each direction, in order, without holding up the chunks behind it
(so it behaves like a long, fat link, not a slow one). Bytes pass untouched, so
TLS and HTTP/2 go through end to end. Counts the connections it accepts.

    delay_proxy.py LISTEN_PORT TARGET_HOST:TARGET_PORT RTT_MS [STATS_FILE]

STATS_FILE (if given) is rewritten with the connection count after each new
connection: the client's connection reuse shows there.
"""
import asyncio
import sys


async def pipe(reader, writer, delay):
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

    async def handle(client_r, client_w):
        nonlocal connections
        connections += 1
        if stats:
            with open(stats, "w") as f:
                f.write(f"{connections}\n")
        # The TCP handshake to the server costs a round trip too.
        await asyncio.sleep(one_way * 2)
        try:
            server_r, server_w = await asyncio.open_connection(host, int(port))
        except OSError:
            client_w.close()
            return
        await asyncio.gather(
            pipe(client_r, server_w, one_way), pipe(server_r, client_w, one_way)
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
