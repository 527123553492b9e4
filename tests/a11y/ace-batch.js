// DAISY Ace kept running for a test process (tests/environment.py, daisy_ace): a JSON line [epub, report folder]
// in, "done <epub>" (or "failed <epub>: why") out, with one headless Chromium for every book: starting Node, Ace
// and a browser for each book cost seconds.
const path = require("path");
const modules = path.join(__dirname, "node_modules");
const ace = require(path.join(modules, "@daisy/ace-core"));
const runner = require(path.join(modules, "@daisy/ace-axe-runner-puppeteer"));
require(path.join(modules, "@daisy/ace-logger")).initLogger({verbose: false, silent: true});

let launched = false;
const keptBrowser = Object.assign({}, runner, {
  launch: async () => { if (!launched) { await runner.launch(); launched = true; } },
  close: async () => {},  // closed when the input ends
});
let queue = Promise.resolve();
const lines = require("readline").createInterface({input: process.stdin});
lines.on("line", line => {
  queue = queue.then(async () => {
    const [epub, outdir] = JSON.parse(line);
    try {
      await ace(epub, {outdir, silent: true, jobId: "", force: true}, keptBrowser);
      process.stdout.write(`done ${epub}\n`);
    } catch (error) {
      process.stdout.write(`failed ${epub}: ${String(error.message || error).split("\n")[0]}\n`);
    }
  });
});
lines.on("close", () => queue.then(async () => { if (launched) await runner.close(); process.exit(0); }));
