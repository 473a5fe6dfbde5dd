"""onnx.checker (full_check=True: strict shape inference too) on every .onnx
file of a directory, in one process; one JSON line per file on stdout.

Usage: onnx_check_many.py DIR
"""
import json
import os
import sys

import onnx


def main(folder):
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".onnx"):
            continue
        path = os.path.join(folder, name)
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
            print(json.dumps({"file": name, "ok": True}), flush=True)
        except Exception as e:  # every failure is a finding, reported with the file
            print(json.dumps({"file": name, "ok": False, "error": str(e)[:2000]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
