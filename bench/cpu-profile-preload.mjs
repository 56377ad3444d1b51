// Preload for bench/step-profile.ts (node --import, through NODE_OPTIONS, which refuses
// --cpu-prof): profiles the whole process with the inspector and writes
// $DTEMU_CPU_PROFILE_DIR/<role>-<pid>.cpuprofile when it exits. The inspector session runs on
// the process's own thread, so `post` completes synchronously and works in an 'exit' handler.
import { Session } from 'node:inspector';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.DTEMU_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.setSamplingInterval', { interval: 200 });
  session.post('Profiler.enable');
  session.post('Profiler.start');
  const role = process.argv.includes('worker') ? 'worker' : 'main';
  process.on('exit', () => {
    session.post('Profiler.stop', (err, res) => {
      if (err) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${role}-${process.pid}.cpuprofile`), JSON.stringify(res.profile));
    });
  });
}
