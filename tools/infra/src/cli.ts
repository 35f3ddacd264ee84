#!/usr/bin/env -S node --import tsx
// node --import tsx tools/infra/src/cli.ts <up|down|status|build|...>
import { rmSync } from 'node:fs';
import { dirname, sep } from 'node:path';
import {
  ensureInfra,
  infraDir,
  infraStatus,
  killMongo,
  pauseMongo,
  pauseRabbit,
  prepareInfra,
  restartRabbit,
  resumeMongo,
  resumeRabbit,
  startMongo,
  startRabbit,
  stopInfra,
  stopMongo,
  stopRabbit,
} from './index.js';
import { readState } from './state.js';

const USAGE = `usage: node --import tsx tools/infra/src/cli.ts <command> [flags]

  up [--env] [--quiet]  ensure MongoDB + RabbitMQ run; summary on stderr.
                        --env: print MONGO_URL=... and AMQP_URL=... (export-able) on stdout
  down [--purge]        stop what we started (state file); --purge also deletes data/logs
  status [--json]       show what runs and whether it answers
  build                 build/cache FerretDB and install rabbitmq-server if missing
  stop-rabbit | start-rabbit | restart-rabbit | stop-mongo | start-mongo
                        failure injection by hand: the server down (connections refused)
  kill-mongo            the database crashes (SIGKILL; start-mongo brings it back)
  pause-rabbit | resume-rabbit | pause-mongo | resume-mongo
                        the server hung (SIGSTOP/SIGCONT): connections open, nothing answers

Env: MONGO_URL / AMQP_URL (use these servers), CHAT_INFRA_DOCKER=0|1 (never|require Docker),
     CHAT_INFRA_DIR (private instance dir instead of <repo>/.infra)`;

const q = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  const flags = new Set(rest);
  switch (cmd) {
    case 'up': {
      const infra = await ensureInfra({ quiet: flags.has('--quiet') });
      if (flags.has('--env')) process.stdout.write(`MONGO_URL=${q(infra.mongoUrl)}\nAMQP_URL=${q(infra.amqpUrl)}\n`);
      return 0;
    }
    case 'down': {
      // A cluster the postgres user could not keep under infraDir lives in its home instead.
      const pgData = readState().postgres?.dataDir;
      await stopInfra();
      if (flags.has('--purge')) {
        rmSync(infraDir(), { recursive: true, force: true });
        process.stderr.write(`[infra] removed ${infraDir()}\n`);
        if (pgData && !pgData.startsWith(infraDir() + sep)) {
          rmSync(dirname(pgData), { recursive: true, force: true });
          process.stderr.write(`[infra] removed ${dirname(pgData)}\n`);
        }
      }
      return 0;
    }
    case 'status': {
      const st = await infraStatus();
      if (flags.has('--json')) process.stdout.write(JSON.stringify(st, null, 2) + '\n');
      else for (const e of st) process.stdout.write(`${e.kind.padEnd(6)} ${e.source.padEnd(14)} ${e.healthy ? 'UP  ' : 'DOWN'} ${e.url ?? '-'}  ${e.detail}\n`);
      return st.every((e) => e.healthy) ? 0 : 3;
    }
    case 'build':
      await prepareInfra();
      return 0;
    case 'stop-rabbit':
      await stopRabbit();
      return 0;
    case 'start-rabbit':
      await startRabbit();
      return 0;
    case 'restart-rabbit':
      await restartRabbit();
      return 0;
    case 'stop-mongo':
      await stopMongo();
      return 0;
    case 'start-mongo':
      await startMongo();
      return 0;
    case 'kill-mongo':
      await killMongo();
      return 0;
    case 'pause-rabbit':
      await pauseRabbit();
      return 0;
    case 'resume-rabbit':
      await resumeRabbit();
      return 0;
    case 'pause-mongo':
      await pauseMongo();
      return 0;
    case 'resume-mongo':
      await resumeMongo();
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stderr.write(USAGE + '\n');
      return cmd ? 0 : 2;
    default:
      process.stderr.write(`unknown command ${q(cmd)}\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[infra] error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
