"""A stock aiohttp app for the keep-alive test: create-chat answers 201 with a
Chat, and every request it reads is appended to LOG (one contact id a line),
the server's own count. Prints its port on stdout once it listens.

    /usr/bin/python3 aiohttp_app.py   (the Debian python3-aiohttp) CERT KEY LOG KEEPALIVE_SECONDS
"""
import asyncio
import ssl
import sys

from aiohttp import web

cert, key, log_path, keepalive = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
log = open(log_path, "a", buffering=1)
counter = 0


async def create_chat(request):
    global counter
    await request.read()
    contact = request.match_info["contact"]
    log.write(contact + "\n")
    counter += 1
    return web.json_response(
        {"id": f"chat_{contact}_{counter}", "status": "RUNNING", "link": "https://x",
         "state": {"state": "OPEN"}, "created_at": "2026-01-01T00:00:00Z"},
        status=201)


async def main():
    app = web.Application()
    app.router.add_post("/orgs/{org}/contacts/{contact}/channels/{channel}/chats", create_chat)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    runner = web.AppRunner(app, keepalive_timeout=keepalive, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Event().wait()


asyncio.run(main())
