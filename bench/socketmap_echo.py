#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""A socketmap server for checking bench_socketmap_load (see
bench/socketmap_selftest.sh), not for measuring anything.

    socketmap_echo.py LISTEN COUNTFILE

LISTEN is host:port or unix:PATH.  Every request must be a netstring
"postfix KEY"; a request that is not ends the connection.  The reply
depends on the key's first label:

    ok.*        OK secure match=KEY servername=hostname
    nf.*        NOTFOUND (with its space)
    temp.*      TEMP try again later
    perm.*      PERM no
    timeout.*   TIMEOUT too slow
    other.*     WHAT is this (a netstring, but no status word we know)
    nospace.*   NOTFOUND (no space: not a reply)
    zero.*      the OK reply with a leading zero in its length
    comma.*     the OK reply with ';' in place of the final comma
    big.*       an OK reply of 100,001 octets (over the cap)
    delayN.*    OK after N milliseconds (requests are answered in
                order, one after the other, so pipelined delays add up)

On SIGTERM it writes the number of requests it answered to COUNTFILE
and exits.
"""
import asyncio
import os
import signal
import sys

served = 0


def reply_for(key: bytes) -> bytes:
    label = key.split(b".", 1)[0]
    if label == b"ok":
        data = b"OK secure match=" + key + b" servername=hostname"
    elif label == b"nf":
        data = b"NOTFOUND "
    elif label == b"temp":
        data = b"TEMP try again later"
    elif label == b"perm":
        data = b"PERM no"
    elif label == b"timeout":
        data = b"TIMEOUT too slow"
    elif label == b"other":
        data = b"WHAT is this"
    elif label == b"nospace":
        data = b"NOTFOUND"
    elif label == b"zero":
        data = b"OK x"
        return b"0%d:%s," % (len(data), data)
    elif label == b"comma":
        data = b"OK x"
        return b"%d:%s;" % (len(data), data)
    elif label == b"big":
        data = b"OK " + b"x" * 99998
    else:
        data = b"OK " + key
    return b"%d:%s," % (len(data), data)


async def read_netstring(reader):
    head = await reader.readuntil(b":")
    n = int(head[:-1])
    if n > 10000:
        raise ValueError("request over 10,000 octets")
    data = await reader.readexactly(n + 1)
    if data[-1:] != b",":
        raise ValueError("no comma")
    return data[:-1]


async def handle(reader, writer):
    global served
    try:
        while True:
            req = await read_netstring(reader)
            name, sep, key = req.partition(b" ")
            if name != b"postfix" or sep != b" " or not key:
                raise ValueError("bad request %r" % req)
            label = key.split(b".", 1)[0]
            if label.startswith(b"delay"):
                await writer.drain()
                await asyncio.sleep(int(label[5:]) / 1000)
            writer.write(reply_for(key))
            served += 1
            if label.startswith(b"delay"):
                await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    except ValueError as e:
        print("socketmap_echo: %s" % e, file=sys.stderr)
    finally:
        try:
            await writer.drain()
        except ConnectionError:
            pass
        writer.close()


async def main():
    listen, countfile = sys.argv[1], sys.argv[2]
    if listen.startswith("unix:"):
        server = await asyncio.start_unix_server(handle, path=listen[5:])
    else:
        host, _, port = listen.rpartition(":")
        server = await asyncio.start_server(handle, host, int(port))
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    with open(countfile + ".tmp", "w") as f:
        f.write("%d\n" % served)
    os.rename(countfile + ".tmp", countfile)


asyncio.run(main())
