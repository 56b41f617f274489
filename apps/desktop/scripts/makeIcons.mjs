#!/usr/bin/env node
// Draws Warren's icons with no downloads and no image tools: the app icon (a burrow mouth on a
// green rounded square) as PNGs for Linux, icon.ico for Windows and icon.icns for macOS, and the
// tray icons (one per connection state, black on transparent, so macOS can tint them).
// Run: pnpm --filter @warren/desktop icons  (writes apps/desktop/build/; the output is committed).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const BUILD = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'build');

// --- PNG encoding (RGBA, 8 bits per channel) ---------------------------------------------------
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes) {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}
function encodePng(size, rgba) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // RGBA
  const rows = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(rows, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

// --- Drawing: a coverage function in unit coordinates, supersampled 4x4 per pixel ------------------
function render(size, paint) {
  const out = Buffer.alloc(size * size * 4);
  const samples = 4;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      const acc = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++)
        for (let sx = 0; sx < samples; sx++) {
          const [r, g, b, a] = paint((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size);
          acc[0] += r * a;
          acc[1] += g * a;
          acc[2] += b * a;
          acc[3] += a;
        }
      const i = (y * size + x) * 4;
      const alpha = acc[3] / (samples * samples);
      out[i] = acc[3] ? Math.round(acc[0] / acc[3]) : 0;
      out[i + 1] = acc[3] ? Math.round(acc[1] / acc[3]) : 0;
      out[i + 2] = acc[3] ? Math.round(acc[2] / acc[3]) : 0;
      out[i + 3] = Math.round(alpha * 255);
    }
  return encodePng(size, out);
}

const inRoundedSquare = (x, y, inset, radius) => {
  const lo = inset + radius;
  const hi = 1 - inset - radius;
  const dx = Math.max(lo - x, 0, x - hi);
  const dy = Math.max(lo - y, 0, y - hi);
  return x >= inset && x <= 1 - inset && y >= inset && y <= 1 - inset && dx * dx + dy * dy <= radius * radius;
};
const GREEN = [47, 111, 78];
const CREAM = [246, 240, 225];
const EARTH = [58, 42, 30];

/** The app icon: a mound (cream) with a burrow mouth (dark earth) on a green rounded square. */
function appIcon(x, y) {
  if (!inRoundedSquare(x, y, 0.06, 0.18)) return [0, 0, 0, 0];
  const mound = (x - 0.5) ** 2 / 0.38 ** 2 + (y - 0.78) ** 2 / 0.5 ** 2 <= 1 && y <= 0.8;
  const mouth = (x - 0.5) ** 2 / 0.17 ** 2 + (y - 0.8) ** 2 / 0.26 ** 2 <= 1 && y <= 0.8;
  if (mouth) return [...EARTH, 1];
  if (mound) return [...CREAM, 1];
  return [...GREEN, 1];
}

/** Tray icons, black on transparent: filled (connected), half (connecting), ring (signed out), ring with a bar (offline). */
function trayIcon(state) {
  return (x, y) => {
    const d = Math.hypot(x - 0.5, y - 0.5);
    const ring = d <= 0.42 && d >= 0.3;
    let on = ring;
    if (state === 'connected') on = d <= 0.42;
    if (state === 'connecting') on = ring || (d < 0.3 && x < 0.5);
    if (state === 'offline') on = ring || (Math.abs(x - y) < 0.07 && d < 0.42);
    return on ? [0, 0, 0, 1] : [0, 0, 0, 0];
  };
}

// --- Containers -------------------------------------------------------------------------------------
function ico(pngs) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(pngs.length, 4);
  let offset = 6 + 16 * pngs.length;
  const entries = pngs.map(({ size, png }) => {
    const entry = Buffer.alloc(16);
    entry[0] = size >= 256 ? 0 : size; // 0 means 256
    entry[1] = size >= 256 ? 0 : size;
    entry.writeUInt16LE(1, 4); // planes
    entry.writeUInt16LE(32, 6); // bits per pixel
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...pngs.map(({ png }) => png)]);
}

function icns(pngs) {
  const types = { 16: 'icp4', 32: 'icp5', 64: 'icp6', 128: 'ic07', 256: 'ic08', 512: 'ic09', 1024: 'ic10' };
  const blocks = pngs.map(({ size, png }) => {
    const head = Buffer.alloc(8);
    head.write(types[size], 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'ascii');
  head.writeUInt32BE(8 + blocks.reduce((sum, block) => sum + block.length, 0), 4);
  return Buffer.concat([head, ...blocks]);
}

// --- Output -----------------------------------------------------------------------------------------
const sizes = [16, 32, 48, 64, 128, 256, 512, 1024];
const pngs = new Map(sizes.map((size) => [size, render(size, appIcon)]));
fs.mkdirSync(path.join(BUILD, 'icons'), { recursive: true });
for (const size of [16, 32, 48, 64, 128, 256, 512])
  fs.writeFileSync(path.join(BUILD, 'icons', `${size}x${size}.png`), pngs.get(size));
fs.writeFileSync(path.join(BUILD, 'icon.png'), pngs.get(1024));
fs.writeFileSync(
  path.join(BUILD, 'icon.ico'),
  ico([16, 32, 48, 256].map((size) => ({ size, png: pngs.get(size) }))),
);
fs.writeFileSync(
  path.join(BUILD, 'icon.icns'),
  icns([16, 32, 64, 128, 256, 512, 1024].map((size) => ({ size, png: pngs.get(size) }))),
);
fs.mkdirSync(path.join(BUILD, 'tray'), { recursive: true });
for (const state of ['connected', 'connecting', 'offline', 'signed-out']) {
  fs.writeFileSync(path.join(BUILD, 'tray', `tray-${state}.png`), render(16, trayIcon(state)));
  fs.writeFileSync(path.join(BUILD, 'tray', `tray-${state}@2x.png`), render(32, trayIcon(state)));
}
process.stdout.write(`Wrote icons to ${path.relative(process.cwd(), BUILD) || '.'}\n`);
