"""Benchmark the Telegram path as members meet it: `python bot.py` with the configured models,
against the fake Bot API server of tests/ over HTTP.

Prints, per question and as p50/p95: time from the member's message to the first visible reply
content (the first edit of the placeholder: the sources found, or the answer itself; the
"searching…" placeholder does not count) and to the final cited answer; then the same for N
members asking at once (all must be answered); and the peak memory of the bot with its LLM server.

    .venv/bin/python scripts/bench_bot.py [--questions 6] [--concurrent 10]

Uses the data directory of the settings (default ./var; run `make run` or `partybot ingest
data/samples` first).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.fake_telegram import FakeTelegram  # noqa: E402


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def first_edit_at(fake: FakeTelegram, chat_id: int, after: float) -> float | None:
    for call in fake.sent("editMessageText", chat_id):
        if call.at >= after:
            return call.at
    return None


def first_words_at(fake: FakeTelegram, chat_id: int, after: float) -> float | None:
    """The first edit that shows answer text (below the "found in" header, not a queue notice)."""
    for call in fake.sent("editMessageText", chat_id):
        body = call.params.get("text", "").partition("\n\n")[2].strip("\u200f ")
        if call.at >= after and (call.params.get("parse_mode") == "HTML" or (body and not body.startswith("⏳"))):
            return call.at
    return None


def ask(fake: FakeTelegram, user_id: int, question: str, lang: str, timeout: float) -> dict:
    t0 = time.monotonic()
    fake.send_text(fake.user(user_id, lang), question)
    final = fake.final_message(user_id, timeout=timeout)
    t_final = time.monotonic()
    t_first = first_edit_at(fake, user_id, t0) or t_final
    t_words = first_words_at(fake, user_id, t0) or t_final
    return {"first_s": t_first - t0, "words_s": t_words - t0, "final_s": t_final - t0, "text": final["text"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=6, help="sequential questions (from the dev set)")
    ap.add_argument("--concurrent", type=int, default=10, help="members asking at once")
    ap.add_argument("--timeout", type=float, default=900.0)
    args = ap.parse_args()

    dev = [json.loads(line) for line in (REPO.parent / "shared" / "eval" / "dev.jsonl").open(encoding="utf-8")]
    answerable = [c for c in dev if c["type"] != "unanswerable"]
    by_lang = {lang: [c for c in answerable if c["lang"] == lang] for lang in ("ar", "vi", "en")}
    most = max(len(cases) for cases in by_lang.values())
    picked = [by_lang[lang][i] for i in range(most) for lang in ("ar", "vi", "en")
              if i < len(by_lang[lang])][: args.questions]

    fake = FakeTelegram().start()
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_BASE_URL": fake.base_url,
           "TELEGRAM_BASE_FILE_URL": fake.base_file_url, "PARTYBOT_BOT_QUEUE_MAX": str(max(20, args.concurrent)),
           "PARTYBOT_BOT_RATE_PER_MINUTE": "60", "PARTYBOT_BOT_POLL_TIMEOUT_S": "5"}
    t = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(REPO / "bot.py")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # The bot and its children (the local LLM's llama-server runs as one): the peak of their
    # summed resident memory, sampled, and the sum of each one's own peak (an upper bound).
    peak = {"kb": 0, "hwm": {}}

    def tree(pid: int) -> list[int]:
        out = [pid]
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                out += [c for k in (task / "children").read_text().split() for c in tree(int(k))]
            except OSError:
                pass
        return out

    def memory_kb(pid: int) -> dict[str, int]:
        """VmRSS and VmHWM of a process, from one read of its status."""
        return {line.split(":")[0]: int(line.split()[1])
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith(("VmRSS:", "VmHWM:"))}

    def watch():
        while proc.poll() is None:
            try:
                total = 0
                for pid in tree(proc.pid):
                    mem = memory_kb(pid)
                    total += mem.get("VmRSS", 0)
                    peak["hwm"][pid] = max(peak["hwm"].get(pid, 0), mem.get("VmHWM", 0))
                peak["kb"] = max(peak["kb"], total)
            except OSError:
                pass
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()
    try:
        fake.wait_for(lambda: fake.sent("getUpdates") or proc.poll() is not None, 300, "the bot to start")
        if proc.poll() is not None:
            print(proc.stderr.read().decode(errors="replace"), file=sys.stderr)
            return 1
        print(f"bot ready (models loaded, polling) in {time.monotonic() - t:.1f} s")

        rows = []
        for i, case in enumerate(picked):
            r = ask(fake, 1000 + i, case["question"], case["lang"], args.timeout)
            rows.append(r)
            print(f"{case['id']:8} first content {r['first_s']:6.2f} s   first answer words {r['words_s']:6.2f} s"
                  f"   final {r['final_s']:6.2f} s")
        firsts, finals = [r["first_s"] for r in rows], [r["final_s"] for r in rows]
        words = [r["words_s"] for r in rows]
        if rows:
            print(f"sequential ({len(rows)} questions): first content p50 {statistics.median(firsts):.2f} s, "
                  f"p95 {pct(firsts, 0.95):.2f} s; final answer p50 {statistics.median(finals):.2f} s, "
                  f"p95 {pct(finals, 0.95):.2f} s; first answer words p50 {statistics.median(words):.2f} s, "
                  f"p95 {pct(words, 0.95):.2f} s")
            # Answers the model wrote arrive word by word (the first words well before the final
            # answer); quoted answers arrive whole, at once.
            streamed = [r["words_s"] for r in rows if r["final_s"] - r["words_s"] > 0.3]
            if streamed:
                print(f"first words of the {len(streamed)} answers the LLM streamed: p50 "
                      f"{statistics.median(streamed):.2f} s, p95 {pct(streamed, 0.95):.2f} s, "
                      f"min {min(streamed):.2f} s, max {max(streamed):.2f} s")

        if args.concurrent:
            langs = ("ar", "vi", "en")  # a mix: Arabic questions are quoted at once, the others need the LLM
            cases = [by_lang[langs[i % 3]][(i // 3) % len(by_lang[langs[i % 3]])] for i in range(args.concurrent)]
            t0 = time.monotonic()
            for i, case in enumerate(cases):
                fake.send_text(fake.user(2000 + i, case["lang"]), case["question"])
            done, firsts, finals = 0, [], []
            for i in range(len(cases)):
                try:
                    fake.final_message(2000 + i, timeout=args.timeout)
                    finals.append(time.monotonic() - t0)
                    firsts.append((first_edit_at(fake, 2000 + i, t0) or time.monotonic()) - t0)
                    done += 1
                except AssertionError:
                    pass
            print(f"{args.concurrent} members at once ({', '.join(c['id'] for c in cases)}): "
                  f"{done}/{len(cases)} answered; first content p50 "
                  f"{statistics.median(firsts):.2f} s, max {max(firsts):.2f} s; all answered after "
                  f"{max(finals):.1f} s")
    finally:
        proc.terminate()
        proc.wait(30)
        fake.stop()
    print(f"bot + LLM server peak RSS {peak['kb'] / 2**20:.2f} GB (sampled sum; sum of each process's own peak "
          f"{sum(peak['hwm'].values()) / 2**20:.2f} GB, {len(peak['hwm'])} processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
