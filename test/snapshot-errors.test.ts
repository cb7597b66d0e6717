// SnapshotError: every code from a real bad file, and a file whose checksums match
// but whose content is crafted never crashes the process or loads half an index.
// The old snapshot survives a process killed between writing the new one and
// renaming it into place.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ActivityIndex, SnapshotError } from '../src/index.js';
import { ROOT, tempDir, waitFor } from './live-helpers.js';

// The layout of native/snapshot-format.h, to damage files precisely.
const HEADER = 40;
const FRAME = 16;
const TRAILER = 8;

// A reference CRC-32C (bitwise, slow and obviously right) to re-seal crafted files.
function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = (crc >>> 1) ^ (0x82f63b78 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

interface Section {
  tag: number;
  frame: number;
  payload: number;
  length: number;
}

function sections(file: Buffer): Section[] {
  const found: Section[] = [];
  let offset = HEADER;
  for (let i = 0; i < file.readUInt32LE(12); i++) {
    const length = Number(file.readBigUInt64LE(offset + 8));
    found.push({ tag: file.readUInt32LE(offset), frame: offset, payload: offset + FRAME, length });
    offset += FRAME + length;
  }
  return found;
}

/** Recomputes every checksum, so that only the content is wrong. */
function reseal(file: Buffer): Buffer {
  for (const section of sections(file)) {
    file.writeUInt32LE(crc32c(file.subarray(section.payload, section.payload + section.length)), section.frame + 4);
  }
  file.writeUInt32LE(crc32c(file.subarray(0, 36)), 36);
  file.writeUInt32LE(crc32c(file.subarray(0, file.length - TRAILER)), file.length - TRAILER);
  return file;
}

async function sample(dir: string, options: ConstructorParameters<typeof ActivityIndex>[0] = {}): Promise<{ file: string; bytes: Buffer }> {
  const index = new ActivityIndex({ usersPerPage: 4, pagesPerUser: 3, userWindow: '1m', ...options });
  for (let i = 0; i < 60; i++) index.record(`user-${i % 9}`, `/page/${i % 5}`, 100_000 + i * 997 - (i % 4) * 1500);
  const file = path.join(dir, 'good.snap');
  await index.save(file);
  index.close();
  return { file, bytes: fs.readFileSync(file) };
}

async function loadBytes(dir: string, bytes: Uint8Array, options?: ConstructorParameters<typeof ActivityIndex>[0]): Promise<SnapshotError | ActivityIndex> {
  const file = path.join(dir, 'bad.snap');
  fs.writeFileSync(file, bytes);
  try {
    return await ActivityIndex.load(file, options);
  } catch (error) {
    if (!(error instanceof SnapshotError)) throw error;
    return error;
  }
}

async function expectCode(dir: string, bytes: Uint8Array, code: string, message?: RegExp): Promise<void> {
  const result = await loadBytes(dir, bytes);
  if (result instanceof ActivityIndex) {
    result.close();
    throw new Error(`expected ${code}, but the file loaded`);
  }
  expect(result.code).toBe(code);
  expect(result.message).toContain(path.join(dir, 'bad.snap'));
  if (message !== undefined) expect(result.message).toMatch(message);
}

describe('ActivityIndex.load() of a bad file', () => {
  it('ENOTSNAPSHOT: another kind of file', async () => {
    const dir = tempDir();
    const { bytes } = await sample(dir);
    await expectCode(dir, Buffer.from('127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326\n'), 'ENOTSNAPSHOT');
    await expectCode(dir, Buffer.from('\x89PNG\r\n\x1a\n....'), 'ENOTSNAPSHOT', /not a skiptrail snapshot/);
    const flipped = Buffer.from(bytes);
    flipped[1]! ^= 0x20;
    await expectCode(dir, flipped, 'ENOTSNAPSHOT');
  });

  it('ETRUNCATED: cut anywhere', async () => {
    const dir = tempDir();
    const { bytes } = await sample(dir);
    const cuts = [0, 1, 7, 8, 20, HEADER - 1, HEADER, HEADER + 5, Math.floor(bytes.length / 2), bytes.length - TRAILER, bytes.length - 1];
    for (const cut of cuts) await expectCode(dir, bytes.subarray(0, cut), 'ETRUNCATED', /truncated/);
  });

  it('EVERSION: a newer (or unknown) format version', async () => {
    const dir = tempDir();
    const { bytes } = await sample(dir);
    for (const version of [2, 0, 0xffffffff]) {
      const other = Buffer.from(bytes);
      other.writeUInt32LE(version, 8);
      await expectCode(dir, reseal(other), 'EVERSION', version === 2 ? /version 2 is newer than the version this skiptrail reads \(1\)/ : /version/);
    }
  });

  it('ECHECKSUM: a flipped bit in any section, the header or the trailer, or bytes appended', async () => {
    const dir = tempDir();
    const { bytes } = await sample(dir);
    for (const section of sections(bytes)) {
      const damaged = Buffer.from(bytes);
      damaged[section.payload + Math.floor(section.length / 2)]! ^= 0x04;
      await expectCode(dir, damaged, 'ECHECKSUM', /checksum does not match/);
    }
    const header = Buffer.from(bytes);
    header[20]! ^= 1; // created-at
    await expectCode(dir, header, 'ECHECKSUM', /header's checksum/);
    const trailer = Buffer.from(bytes);
    trailer[bytes.length - TRAILER]! ^= 0x80;
    await expectCode(dir, trailer, 'ECHECKSUM', /file's checksum/);
    await expectCode(dir, Buffer.concat([bytes, Buffer.from('x')]), 'ECHECKSUM', /unexpected bytes/);
  });

  it('never loads a file with any single byte changed', async () => {
    const dir = tempDir();
    const { bytes } = await sample(dir);
    const codes = new Set<string>();
    for (let offset = 0; offset < bytes.length; offset++) {
      const damaged = Buffer.from(bytes);
      damaged[offset]! ^= 0xff;
      const result = await loadBytes(dir, damaged);
      if (result instanceof ActivityIndex) {
        result.close();
        throw new Error(`a file with byte ${offset} flipped loaded`);
      }
      codes.add(result.code);
    }
    // A changed length field is caught by the header's checksum: never taken for a cut file.
    expect([...codes].sort()).toEqual(['ECHECKSUM', 'ENOTSNAPSHOT', 'EVERSION']);
  });

  it('EOPTIONS: options that differ from the saved ones', async () => {
    const dir = tempDir();
    const { file } = await sample(dir, { maxUsers: 6, clock: 'wall' });
    await expect(ActivityIndex.load(file, { usersPerPage: 5 })).rejects.toMatchObject({
      code: 'EOPTIONS',
      message: expect.stringMatching(/options\.usersPerPage is 5 but the snapshot was saved with 4/),
    });
    await expect(ActivityIndex.load(file, { maxUsers: Infinity })).rejects.toMatchObject({ code: 'EOPTIONS' });
    await expect(ActivityIndex.load(file, { clock: 'stream' })).rejects.toMatchObject({ code: 'EOPTIONS' });
    await expect(ActivityIndex.load(file, { userWindow: '2m' })).rejects.toMatchObject({ code: 'EOPTIONS' });
    // The same options, in another spelling, are fine.
    const loaded = await ActivityIndex.load(file, { userWindow: 60_000, usersPerPage: 4, maxUsers: 6, clock: 'wall' });
    expect(loaded.options.maxUsers).toBe(6);
    loaded.close();
  });

  it('survives content crafted behind valid checksums: an error or a consistent index, nothing between', async () => {
    const dir = tempDir();
    const { bytes } = await sample(dir);
    const content = sections(bytes).filter((section) => section.tag >= 4 || section.tag === 1);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...content),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        async (section, changes) => {
          const crafted = Buffer.from(bytes);
          for (const [at, value] of changes) crafted[section.payload + (at % section.length)] = value;
          const result = await loadBytes(dir, reseal(crafted));
          if (result instanceof ActivityIndex) {
            result.validate();
            result.lastUsers('/page/1', 4);
            result.record('user-1', '/page/1', 200_000);
            result.validate();
            result.close();
          } else {
            expect(result.code).toBe('ECHECKSUM');
          }
        },
      ),
      { numRuns: process.env.CI ? 2000 : 300 },
    );
  });
});

describe('ActivityIndex#save() and a crash', () => {
  it('leaves the old snapshot whole when the process is killed between writing and renaming', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'index.snap');
    const old = new ActivityIndex();
    old.record('a', '/old', 1000);
    await old.save(file);
    old.close();
    // A child saves a new snapshot but stops forever at the rename; then SIGKILL.
    const script = `
      const fs = require('node:fs');
      const { ActivityIndex } = require(${JSON.stringify(path.join(ROOT, 'dist', 'index.js'))});
      const index = new ActivityIndex();
      index.record('a', '/new', 2000);
      fs.promises.rename = () => { process.stdout.write('renaming\\n'); return new Promise(() => {}); };
      index.save(${JSON.stringify(file)});
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output, (text) => text.includes('renaming'), { what: 'the child to reach the rename' });
    const temporary = fs.readdirSync(dir).filter((name) => name.endsWith('.tmp'));
    expect(temporary).toHaveLength(1);
    expect(fs.statSync(path.join(dir, temporary[0]!)).size).toBeGreaterThan(0); // written and synced
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const loaded = await ActivityIndex.load(file);
    expect(loaded.lastUsers('/old')).toEqual([{ user: 'a', ts: 1000 }]);
    expect(loaded.lastUsers('/new')).toEqual([]);
    loaded.close();
  });
});
