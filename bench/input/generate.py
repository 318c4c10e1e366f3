#!/usr/bin/env python3
"""Writes N-row contact files (CSV and JSONL) for benchmarking `validate`.

Usage: generate.py [--rows N] [--out DIR]
Rows are deterministic (seeded) and all valid; some hold quoted commas,
doubled quotes and non-ASCII names so the reader's slow paths are exercised.
"""
import argparse
import json
import os
import random

FIRST = ["Ana", "Bruno", "Chloé", "Dmitri", "Eun-ji", "Fatima", "Gustavo", "Hiroshi",
         "Inês", "Jakub", "Kwame", "Léa", "Mateus", "Nadia", "Oğuz", "Priya", "Zoë"]
LAST = ["Silva", "Müller", "O'Brien", "Kowalski", "Nakamura", "García", "Smith",
        "Nguyễn", "Johansson", "Costa", "Dubois", "Rossi"]
COMPANY = ["Acme", "Globex, Inc.", "Initech", "Umbrella \"Corp\"", "Stark Industries",
           "Wayne Enterprises", "Hooli", "Vandelay Industries"]


def csv_field(value):
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def rows(count, seed=42):
    rng = random.Random(seed)
    for i in range(count):
        first = rng.choice(FIRST)
        last = rng.choice(LAST)
        yield {
            "contact_id": f"ct_{i:08d}",
            "channel_id": f"ch_{rng.randrange(1, 50):03d}",
            "first_name": first,
            "last_name": last,
            "email": f"{first.lower()}.{i}@example.com",
            "company": rng.choice(COMPANY),
        }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", default=".")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    columns = ["contact_id", "channel_id", "first_name", "last_name", "email", "company"]
    with open(os.path.join(args.out, "contacts.csv"), "w", encoding="utf-8", newline="") as csv, \
         open(os.path.join(args.out, "contacts.jsonl"), "w", encoding="utf-8", newline="") as jsonl:
        csv.write(",".join(columns) + "\r\n")
        for row in rows(args.rows):
            csv.write(",".join(csv_field(row[c]) for c in columns) + "\r\n")
            jsonl.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
