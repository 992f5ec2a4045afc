#!/usr/bin/env python3
"""Writes the hand-written expert drafts environments/<env>/experts/<bug>.json (steps without
observations). `cargo run -p srl-sandbox --example record_experts` executes them in the task
containers and writes the recorded specs to datasets/swe-smith-src/<traj_id>.json.
Dev-time script; re-run after editing the steps below."""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def ids(env):
    return [json.loads(l)["instance_id"] for l in open(os.path.join(HERE, env, "instances.jsonl"))]


def view(path, rng=None):
    a = {"command": "view", "path": path}
    if rng:
        a["view_range"] = rng
    return a


def step(thought, tool, args):
    return {"thought": thought, "tool": tool, "args": args}


def flow(explore, file, rng, repro, fix_old, fix_new, fix_file, tests, extra=()):
    s = [
        step("I'll start by exploring the repository structure to find the code related to the PR description.", "str_replace_editor", view("/testbed")),
        step(explore, "str_replace_editor", view(file, rng)),
        step("Let me write a script that reproduces the issue described in the PR.", "str_replace_editor",
             {"command": "create", "path": "/testbed/reproduce.py", "file_text": repro}),
        step("Now let's run it to confirm the error.", "bash", {"command": "cd /testbed && python reproduce.py"}),
        step("I've confirmed the problem. Let me fix the code.", "str_replace_editor",
             {"command": "str_replace", "path": fix_file, "old_str": fix_old, "new_str": fix_new}),
        step("Let's run the reproduction script again to check the fix.", "bash", {"command": "cd /testbed && python reproduce.py"}),
    ]
    s += list(extra)
    s += [
        step("The fix works. Let me run the related tests to make sure nothing else broke.", "bash",
             {"command": f"cd /testbed && python -m pytest -q {tests} 2>&1 | tail -n 3"}),
        step("All tests pass. Let me remove the reproduction script.", "bash", {"command": "rm /testbed/reproduce.py"}),
        step("Now I'll submit the change.", "submit", {}),
        step("The diff only touches the source file I fixed. Submitting again to confirm.", "submit", {}),
    ]
    return s


DRAFTS = {
    "textkit": [
        flow("Let's look at the truncate function in wrap.py.", "/testbed/textkit/wrap.py", [28, 41],
             "from textkit import truncate\n\nfor text, limit in [(\"Hello, world\", 8), (\"abcdefghijklmnop\", 10)]:\n    out = truncate(text, limit)\n    print(repr(out), len(out), \"limit\", limit)\nprint(repr(truncate(\"abcdefghij\", 6, ellipsis=\"~\")))\n",
             "    return text[: limit - len(ellipsis) + 1] + ellipsis", "    return text[: limit - len(ellipsis)] + ellipsis",
             "/testbed/textkit/wrap.py", "tests/test_wrap.py"),
        flow("Let's look at the slug module.", "/testbed/textkit/slug.py", None,
             "from textkit import slugify\nfrom textkit.slug import unique_slug\n\nprint(repr(slugify(\"Hello, World!\")))\nprint(repr(slugify(\"  --hello--  \")))\nprint(repr(unique_slug(\"!!!\", set())))\n",
             "        while doubled in slug:\n            slug = slug.replace(doubled, sep)\n",
             "        while doubled in slug:\n            slug = slug.replace(doubled, sep)\n        slug = slug.strip(sep)\n",
             "/testbed/textkit/slug.py", "tests/test_slug.py"),
        flow("Let's look at word_count in stats.py.", "/testbed/textkit/stats.py", [1, 16],
             "from textkit import word_count\n\nprint(word_count(\"one two three\"))\nprint(word_count(\"  one   two\\tthree\\n\"))\nprint(word_count(\"\"))\n",
             "    return len(text.split(\" \"))", "    return len(text.split())",
             "/testbed/textkit/stats.py", "tests/test_stats.py"),
    ],
    "minicalc": [
        flow("The grammar lives in parser.py; let's look at it.", "/testbed/minicalc/parser.py", None,
             "from minicalc import evaluate\n\nprint(evaluate(\"2 ^ 3 ^ 2\"), 2 ** 3 ** 2)\ntry:\n    print(evaluate(\"2 ^ -1\"))\nexcept Exception as exc:\n    print(type(exc).__name__, exc)\n",
             "        base = self.call()\n        while self.accept(\"^\"):\n            base = (\"bin\", \"^\", base, self.call())\n        return base",
             "        base = self.call()\n        if self.accept(\"^\"):\n            return (\"bin\", \"^\", base, self.unary())\n        return base",
             "/testbed/minicalc/parser.py", "tests/test_parser.py tests/test_evaluator.py"),
        flow("Numbers are recognized by the tokenizer; let's look at its regular expression.", "/testbed/minicalc/tokenizer.py", [1, 20],
             "from minicalc import evaluate, tokenize\n\nprint(tokenize(\"1e3\")[0])\nfor text in [\"3.25\", \"1.5 * 4\"]:\n    try:\n        print(text, \"->\", evaluate(text))\n    except Exception as exc:\n        print(text, \"->\", type(exc).__name__, exc)\n",
             "  | (?P<number>\\d+(?:[eE][+-]?\\d+)?)", "  | (?P<number>\\d+(?:\\.\\d+)?(?:[eE][+-]?\\d+)?)",
             "/testbed/minicalc/tokenizer.py", "tests/test_tokenizer.py tests/test_evaluator.py"),
        flow("Let's look at how the evaluator handles binary operators.", "/testbed/minicalc/evaluator.py", [18, 42],
             "from minicalc import CalcError, evaluate\n\nfor text in [\"1 / 0\", \"5 % (2 - 2)\"]:\n    try:\n        evaluate(text)\n    except CalcError as exc:\n        print(text, \"-> CalcError:\", exc)\n    except Exception as exc:\n        print(text, \"->\", type(exc).__name__, exc)\n",
             "    if op == \"%\":\n        return left % right",
             "    if op == \"%\":\n        if right == 0:\n            raise CalcError(\"modulo by zero\")\n        return left % right",
             "/testbed/minicalc/evaluator.py", "tests/test_evaluator.py"),
    ],
    "intervals": [
        flow("Let's look at Interval.overlaps.", "/testbed/intervals/interval.py", [40, 62],
             "from intervals import Interval\n\nprint(Interval(1, 3).overlaps(Interval(3, 5)))\nprint(Interval(1, 3).intersection(Interval(3, 5)))\nprint(Interval(1, 4).overlaps(Interval(3, 6)))\n",
             "        return self.start <= other.end and other.start <= self.end",
             "        return self.start < other.end and other.start < self.end",
             "/testbed/intervals/interval.py", "tests"),
        flow("Let's look at IntervalSet.add.", "/testbed/intervals/intervalset.py", [27, 45],
             "from intervals import IntervalSet\n\nprint(list(IntervalSet([(1, 3), (3, 5)])))\nprint(list(IntervalSet([(1, 4), (3, 6)])))\n",
             "            if item.overlaps(merged):", "            if item.overlaps(merged) or item.touches(merged):",
             "/testbed/intervals/intervalset.py", "tests"),
        flow("Let's look at IntervalSet.remove.", "/testbed/intervals/intervalset.py", [46, 62],
             "from intervals import IntervalSet\n\ns = IntervalSet([(0, 10)])\ns.remove((3, 5))\nprint(list(s))\nprint(list(IntervalSet([(2, 4), (6, 8)]).complement((0, 10))))\n",
             "            if item.start < interval.start:\n                kept.append(Interval(item.start, interval.start))\n",
             "            if item.start < interval.start:\n                kept.append(Interval(item.start, interval.start))\n            if interval.end < item.end:\n                kept.append(Interval(interval.end, item.end))\n",
             "/testbed/intervals/intervalset.py", "tests"),
    ],
}


def main():
    for env, drafts in DRAFTS.items():
        out = os.path.join(HERE, env, "experts")
        os.makedirs(out, exist_ok=True)
        for iid, steps in zip(ids(env), drafts):
            name = iid.rsplit(".", 1)[1]
            with open(os.path.join(out, name + ".json"), "w") as fh:
                json.dump({"instance_id": iid, "steps": steps}, fh, indent=2)
                fh.write("\n")


if __name__ == "__main__":
    main()
