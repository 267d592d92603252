"""The benchmarks read their numeric flags with a checked parser (bench_util's bu_flag_number): a value that is
not a number in range ends the program with status 2 and a message, before anything starts (atoi/atof read
"abc" as 0 and "1e300" as an overflow)."""
import os
import subprocess

import ripstop_testlib as t

CASES = [
    ("bench_invoke", ["--rate", "abc"]),
    ("bench_invoke", ["--seconds", "1e300"]),
    ("bench_invoke", ["--concurrency", "99999999999"]),
    ("bench_invoke", ["--rounds", "2x"]),
    ("bench_pubsub", ["--messages", "1e9"]),
    ("bench_pubsub", ["--size", "-5"]),
    ("bench_pubsub", ["--rounds", "0"]),
    ("bench_bindings", ["--size", "nan"]),
    ("bench_callgrind", ["--warmup", "inf"]),
    ("bench_state", ["--rounds", "0"]),
    ("bench_grpc", ["--sdk-headers", "2"]),
    ("bench_grpc", ["--rounds", "1e9"]),
]


class BenchFlags(t.ProcTestCase):
    def test_bad_numbers_are_refused(self):
        for name, args in CASES:
            path = os.path.join(t.BUILD, "bench", name)
            if not os.path.exists(path):
                self.skipTest(f"{name} is not built")
            r = subprocess.run([path] + args, capture_output=True, text=True, timeout=20)
            self.assertEqual(r.returncode, 2, (name, args, r.stdout[-300:], r.stderr[-300:]))
            self.assertIn(args[0], r.stderr + r.stdout, (name, args))


if __name__ == "__main__":
    t.main()
