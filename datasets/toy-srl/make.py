"""Generates the toy step-wise SRL task (run: python3 datasets/toy-srl/make.py).

Each instance shows the steps so far of counting up by one (mod 10), e.g. "3 4 5", and the
expert's next step copies the last value into a two-digit register ("55"), the way SWE actions
copy a path or string from the latest observation. The policy answers "<think>...</think>55"; the SRL
reward compares the text after </think> with the target (difflib ratio, -1 on format errors).
Train and validation use disjoint (start, length) combinations. vocab.json is the character
vocabulary of the trainer's toy codec, small enough for a tiny random Qwen2 to learn the format
and the task with GRPO on a CPU in minutes.
"""
import json
import pathlib

HERE = pathlib.Path(__file__).parent
SYSTEM = "count"


def record(start, length):
    steps = [str((start + i) % 10) for i in range(length)]
    last = str((start + length - 1) % 10)
    target = last
    rid = f"count-{start}-{length}"
    return {
        "type": "srl_step",
        "version": 1,
        "id": f"{rid}#{length}",
        "kind": "math",
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": " ".join(steps)},
        ],
        "target": target,
        "reference_answer": str((start + 4) % 10),
        "provenance": {
            "source": "datasets/toy-srl/make.py",
            "row": None,
            "trajectory_id": rid,
            "step_index": length,
            "num_steps": 5,
        },
    }


def main():
    combos = [(s, n) for n in range(1, 5) for s in range(10)]
    val = [c for c in combos if (3 * c[0] + c[1]) % 5 == 0]
    train = [c for c in combos if c not in val]
    for name, rows in [("train.jsonl", train), ("val.jsonl", val)]:
        with open(HERE / name, "w") as f:
            for s, n in rows:
                f.write(json.dumps(record(s, n)) + "\n")
    # RLVR items for the SRL -> RLVR curriculum: the final answer is the last value.
    for name, rows in [("rlvr.jsonl", train), ("rlvr_val.jsonl", val)]:
        with open(HERE / name, "w") as f:
            for s, n in rows:
                steps = [str((s + i) % 10) for i in range(n)]
                item = {"type": "rlvr_item", "version": 1, "id": f"count-{s}-{n}",
                        "question": " ".join(steps), "answer": steps[-1], "source": "datasets/toy-srl/make.py"}
                f.write(json.dumps(item) + "\n")
    vocab = {
        "type": "toy_vocab",
        "version": 1,
        "specials": ["<pad>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"],
        "chars": "0123456789 \naceimnorstuy",
    }
    (HERE / "vocab.json").write_text(json.dumps(vocab, indent=2) + "\n")


if __name__ == "__main__":
    main()
