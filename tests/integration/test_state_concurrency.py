"""1,000 concurrent client connections doing state get/save through one
ripstopd (one event loop) against a real Redis: every request is answered."""

import asyncio
import json
import resource

import ripstop_testlib as t

CONNS = 1000
APP = "loadapp"


def raise_fd_limit(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, need)) if hard != resource.RLIM_INFINITY else max(soft, need)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


async def one(port, i, opened, go):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    opened.append(i)
    await go.wait()  # every connection is open before any request is sent
    if i % 2 == 0:
        body = json.dumps([{"key": f"c{i}", "value": {"i": i}}]).encode()
        req = (f"POST /v1.0/state/statestore HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    else:
        req = f"GET /v1.0/state/statestore/seed{i % 10} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    writer.write(req)
    await writer.drain()
    data = await reader.read(-1)  # the server closes after the reply
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return i, status, data


async def run_all(port):
    opened, go = [], asyncio.Event()
    tasks = [asyncio.ensure_future(one(port, i, opened, go)) for i in range(CONNS)]
    deadline = asyncio.get_running_loop().time() + 30
    while len(opened) < CONNS and asyncio.get_running_loop().time() < deadline:
        if any(tk.done() for tk in tasks):
            break  # a connect failed: let gather report it
        await asyncio.sleep(0.01)
    go.set()
    return await asyncio.wait_for(asyncio.gather(*tasks), 60)


class Concurrency(t.ProcTestCase):
    def test_thousand_concurrent_connections(self):
        limit = raise_fd_limit(CONNS + 512)
        if limit < CONNS + 64:
            self.skipTest(f"file descriptor limit {limit} is too low for {CONNS} connections")
        redis = self.track(t.Redis())
        res = t.write_resources({"state.yaml": t.redis_state_yaml("statestore", redis)})
        sc = self.track(t.Sidecar(APP, resources=res))  # inherits the raised fd limit
        self.assertEqual(sc.req("POST", "/v1.0/state/statestore",
                                [{"key": f"seed{k}", "value": k} for k in range(10)]).status, 204)
        results = asyncio.run(run_all(sc.port))
        self.assertEqual(len(results), CONNS)
        bad = [(i, s, d[:200]) for i, s, d in results if s != (204 if i % 2 == 0 else 200)]
        self.assertEqual(bad, [])
        for i, _, data in results:
            if i % 2:
                self.assertTrue(data.endswith(str((i % 10)).encode()), data[-50:])
        # every save landed, in Dapr's layout
        self.assertEqual(int(redis.cli("DBSIZE")), 10 + CONNS // 2)
        self.assertEqual(redis.cli("HGET", f"{APP}||c998", "data"), '{"i":998}')
        self.assertTrue(sc.proc.alive())


if __name__ == "__main__":
    t.main()
