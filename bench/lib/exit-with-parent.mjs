// Preloaded (`node --import`) into the server children a benchmark starts: if the
// benchmark process dies without cleaning up (SIGKILL, crash), its servers exit too
// instead of lingering. A 500 ms unref'd timer; no effect on the measured work.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(1);
}, 500).unref();
