// Browser test of the demo's pages (node --test), driven by test_demo_pages.py, which starts
// `ripstop demo --quick` and passes: DASHBOARD_URL, DEMO_OUT (the demo's --out dir, where
// report.html appears), SHOT_DIR (screenshots). Headless Debian chromium via playwright-core.
import {test} from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {chromium} from "playwright-core";

const DASH = process.env.DASHBOARD_URL, OUT = process.env.DEMO_OUT, SHOTS = process.env.SHOT_DIR;

async function launch() {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "ripstop-chromium-"));
  const ctx = await chromium.launchPersistentContext(userDir, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: {width: 1280, height: 1400},
  });
  return ctx;
}

const points = (page, id) => page.$eval(id, e => +e.getAttribute("data-points"));

async function waitFor(fn, ms, what) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    try { if (await fn()) return; } catch (e) { last = e; }
    await new Promise(r => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}` + (last ? `: ${last}` : ""));
}

test("live dashboard updates during the run, then the report holds the same story", {timeout: 400000}, async () => {
  const ctx = await launch();
  const requests = [];
  ctx.on("request", r => requests.push(r.url()));
  try {
    const page = await ctx.newPage();
    await page.goto(DASH);
    // The load has started: both request charts and the latency chart get data.
    await waitFor(async () => (await points(page, "#chart-dapr")) >= 3 && (await points(page, "#chart-direct")) >= 3,
                  180000, "request charts to fill");
    const u1 = +(await page.getAttribute("body", "data-updates"));
    await waitFor(async () => +(await page.getAttribute("body", "data-updates")) >= u1 + 2, 5000, "two more updates");
    assert.equal(await page.textContent("#mode"), "live");
    // The scenario's phase is shown as it happens: wait for the chaos window to open.
    // (On a loaded machine the browser may come up after the chaos window has closed: then the phase
    // history and the shaded window still show it, and the live phase is a later one.)
    await waitFor(async () => /^(chaos|recovery|crash|drain|verify|finished)/.test(await page.textContent("#phase")),
                  120000, "the chaos phase or a later one");
    if (/^chaos/.test(await page.textContent("#phase")))
      assert.equal(await page.getAttribute("#phase", "class"), "chaos");
    assert.match(await page.textContent("#scenario"), /chaos: kafka-latency @ \d+ s/, "the phase history names the chaos window");
    assert.ok((await page.$$("#chart-dapr rect.window")).length >= 1, "the chaos window is shaded");
    await waitFor(async () => (await points(page, "#chart-latency")) >= 3, 60000, "latency points");
    await waitFor(async () => (await points(page, "#chart-loyalty")) >= 2, 60000, "live loyalty bars");
    // Traces arrive live: a waterfall of a chosen order with spans from several sidecars.
    await waitFor(async () => (await page.$$("#traces .trace .wf-row")).length >= 5, 120000, "a live waterfall");
    await page.screenshot({path: path.join(SHOTS, "dashboard-live.png"), fullPage: true});
    // The finished run: the verdict table appears on the dashboard too.
    await waitFor(async () => /PASS|FAIL/.test(await page.textContent("#verdict-banner")), 300000, "the verdict");
    // the live page labels the killed loyalty replica's order too
    await waitFor(async () => (await page.$$("#traces .trace[data-killed='customer-loyalty-job#2']")).length === 1,
                  30000, "the killed replica's waterfall on the dashboard");
    await page.screenshot({path: path.join(SHOTS, "dashboard-finished.png"), fullPage: true});
    await page.close();

    // The report: opens from disk with no network and shows all charts.
    const report = path.join(OUT, "report.html");
    await waitFor(async () => fs.existsSync(report), 60000, "report.html");
    const before = requests.length;
    const rp = await ctx.newPage();
    await rp.goto("file://" + report);
    await rp.waitForSelector("#verdict table");
    assert.equal(await rp.textContent("#mode"), "report (recorded run)");
    assert.ok((await points(rp, "#chart-dapr")) >= 10, "dapr chart has bars");
    assert.ok((await points(rp, "#chart-direct")) >= 10, "direct chart has bars");
    assert.ok((await rp.$$("#chart-direct rect.fail")).length >= 1, "the plain frontend's failures are drawn");
    assert.ok((await points(rp, "#chart-latency")) >= 10, "latency points");
    assert.ok((await points(rp, "#chart-breaker")) >= 5, "breaker samples");
    assert.equal(await points(rp, "#chart-loyalty"), 30, "10 customers x expected/lock/no-lock");
    assert.ok((await rp.$$("#chart-dapr rect.window")).length >= 2, "chaos and crash windows shaded");
    assert.equal(await rp.textContent("#verdict-banner"), "PASS");
    // The trace waterfalls: chosen orders (straight through, the chaos window, the crash) with real spans.
    const traces = await rp.$$eval("#traces .trace", ts => ts.map(t => ({
      rows: +t.getAttribute("data-rows"), title: t.querySelector("h3").textContent,
      none: t.classList.contains("none"), killed: t.getAttribute("data-killed"),
      text: t.textContent,
      services: [...new Set([...t.querySelectorAll(".wf-row")].map(r => r.getAttribute("data-service")))],
      maxAttempt: Math.max(0, ...[...t.querySelectorAll(".wf-row")].map(r => +r.getAttribute("data-attempt"))),
      killedRows: [...t.querySelectorAll(".wf-row[data-killed='1']")].map(r => r.getAttribute("data-instance")),
      otherRows: [...t.querySelectorAll(".wf-row[data-killed='0']")]
        .map(r => r.getAttribute("data-service") + "#" + r.getAttribute("data-instance")),
      marks: t.querySelectorAll(".wf-mark").length,
      bars: [...t.querySelectorAll(".wf-bar")].filter(b => b.getBoundingClientRect().width > 0).length})));
    assert.ok(traces.length >= 3, `three waterfalls, got ${JSON.stringify(traces.map(t => t.title))}`);
    for (const t of traces.filter(t => !t.none)) {
      assert.ok(t.rows >= 5 && t.bars === t.rows, `rows with drawn bars: ${JSON.stringify(t)}`);
      const need = t.killed ? ["ripstop load", "customer-order-service", "customer-audit-service", "customer-loyalty-job"]
                            : ["ripstop load", "frontend-dapr", "customer-order-service", "customer-audit-service"];
      for (const svc of need) assert.ok(t.services.includes(svc), `${t.title}: spans of ${svc} (${t.services})`);
    }
    assert.ok(traces.some(t => /^chaos: kafka-latency/.test(t.title) && t.maxAttempt >= 2),
              "the Kafka latency window's order shows its retried attempts");
    // The third is about the killed loyalty replica, not some order of the crash window: the order that replica
    // was counting when it died (the scenario's kill waits until it holds one), its rows before the kill marked,
    // and another replica (or its restart) finishing it.
    const kill = traces.find(t => t.killed === "customer-loyalty-job#2");
    assert.ok(kill, `a waterfall about the killed replica: ${JSON.stringify(traces.map(t => t.title))}`);
    assert.match(kill.title, /^crash: customer-loyalty-job#2 replica killed/);
    assert.ok(!kill.none, `the kill interrupted an order: ${kill.text}`);
    assert.ok(kill.rows >= 5, `the killed replica's order has a waterfall: ${JSON.stringify(kill)}`);
    assert.ok(kill.killedRows.length >= 1 && kill.killedRows.every(i => i === "2"), `killed rows: ${JSON.stringify(kill)}`);
    assert.ok(kill.otherRows.some(r => /^customer-loyalty-job#[12]$/.test(r)), `the count finished after the kill: ${JSON.stringify(kill)}`);
    assert.ok(kill.marks >= kill.rows, "the kill's instant is drawn across the waterfall");
    assert.match(kill.text, /was working on this order when it was killed/);
    const offDisk = requests.slice(before).filter(u => !u.startsWith("file://"));
    assert.deepEqual(offDisk, [], "the report loads nothing from the network");
    await rp.screenshot({path: path.join(SHOTS, "report.png"), fullPage: true});
  } finally {
    await ctx.close();
  }
});
