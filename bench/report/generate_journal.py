#!/usr/bin/env python3
"""Writes a journal of N rows (default 1,000,000) in the journal's exact
format: a header, run events, a `sending` and a final record per row with
`at`, a mix of outcomes, retries and a few Retry-After pauses, over about
three hours. bench/report/run.sh times `invent-dispatch report` over it."""
import random
import sys
from datetime import datetime, timedelta, timezone


def stamp(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def main():
    path = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    rng = random.Random(1)
    t0 = datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc)
    step = timedelta(seconds=10_800 / rows)
    with open(path, "w") as out:
        out.write('{"journal":"invent-dispatch","version":1,"input":"/data/contacts.csv",'
                  '"input_size":91000000,"input_digest":"5d41402abc4b2a76b9719d911017c592"}\n')
        out.write(f'{{"event":"run_start","version":"0.1.0","base_url":"https://api.useinvent.com",'
                  f'"shard":null,"pid":4242,"at":"{stamp(t0)}"}}\n')
        for i in range(rows):
            when = t0 + step * i
            at = stamp(when)
            key = f"org_1/c_{i}/ch_{i % 7}"
            line = i + 2
            draw = rng.random()
            latency = rng.lognormvariate(4.3, 0.45)
            attempts, status, outcome, error, chat = 1, "200", "created", "null", f'"chat_{i}"'
            if draw < 0.02:
                attempts, status, outcome, chat = 5, "503", "failed", "null"
                error = '"HTTP 503: Service Unavailable"'
            elif draw < 0.03:
                status, outcome, chat, error = "404", "failed", "null", '"HTTP 404: contact not found"'
            elif draw < 0.032:
                status, outcome, chat, latency = "null", "unknown", "null", None
                error = '"response timeout after 30000 ms"'
            elif draw < 0.1:
                attempts = 2
            out.write(f'{{"line":{line},"key":"{key}","outcome":"sending","at":"{at}"}}\n')
            out.write(f'{{"line":{line},"key":"{key}","org_id":"org_1","contact_id":"c_{i}","channel_id":"ch_{i % 7}",'
                      f'"outcome":"{outcome}","http_status":{status},"chat_id":{chat},"chat_status":'
                      f'{"null" if chat == "null" else chr(34) + "RUNNING" + chr(34)},"chat_state":null,'
                      f'"chat_created_at":null,"link":null,"attempts":{attempts},'
                      f'"latency_ms":{"null" if latency is None else f"{latency:.1f}"},"error":{error},"at":"{at}"}}\n')
            if i % 200_000 == 100_000:
                out.write(f'{{"event":"pause","status":429,"until":"{stamp(when + timedelta(seconds=30))}","at":"{at}"}}\n')
        out.write(f'{{"event":"run_end","exit_code":1,"at":"{stamp(t0 + step * rows)}"}}\n')


if __name__ == "__main__":
    main()
