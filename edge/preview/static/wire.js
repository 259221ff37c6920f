/**
 * The preview's binary frame message (docs/preview.md, "Binary: one frame").
 *
 *   bytes 0-3  "OPF1"
 *   bytes 4-7  uint32 big-endian H: length of the JSON header
 *   bytes 8..  H bytes of UTF-8 JSON, then each part's bytes in the header's order
 *
 * parseFrameMessage() checks every length before it slices, and returns views into the
 * message (no copies). A message that does not add up is a WireError that says what was
 * wrong, never a part read from the wrong bytes.
 *
 * The depth part is the depth map at preview size: little-endian uint16 millimetres,
 * 0 = no return, zlib-compressed ("uint16le+zlib"); inflateDepthMm() turns it into a
 * Uint16Array with the Compression Streams API ("deflate" is the zlib format, RFC 1950).
 */

export const FRAME_MAGIC = "OPF1";
/** Bytes before the header: magic and header length. */
export const PREAMBLE_BYTES = 8;
/** A header longer than this is not a frame header (they are a few kB). */
export const MAX_HEADER_BYTES = 1 << 20;
export const DEPTH_ENCODING = "uint16le+zlib";

export class WireError extends Error {
  constructor(message) {
    super(message);
    this.name = "WireError";
  }
}

const decoder = new TextDecoder("utf-8", { fatal: true });

function asBytes(data) {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new WireError(`a frame message is binary (ArrayBuffer or Uint8Array), got ${typeof data}`);
}

/**
 * The header and parts of one binary frame message.
 * @param {ArrayBuffer|Uint8Array} data
 * @returns {{header: object, parts: Map<string, {kind: string, mime: string, bytes: Uint8Array, meta: object}>}}
 */
export function parseFrameMessage(data) {
  const bytes = asBytes(data);
  if (bytes.length < PREAMBLE_BYTES) {
    throw new WireError(`frame message of ${bytes.length} bytes is shorter than its ${PREAMBLE_BYTES}-byte preamble`);
  }
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== FRAME_MAGIC) {
    throw new WireError(`frame message starts with ${JSON.stringify(magic)}, expected "${FRAME_MAGIC}"`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getUint32(4, false);
  if (headerBytes > MAX_HEADER_BYTES) {
    throw new WireError(`frame header of ${headerBytes} bytes is over the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (PREAMBLE_BYTES + headerBytes > bytes.length) {
    throw new WireError(`frame header claims ${headerBytes} bytes; only ${bytes.length - PREAMBLE_BYTES} follow`);
  }
  let header;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + headerBytes)));
  } catch (err) {
    throw new WireError(`frame header is not UTF-8 JSON: ${err.message}`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new WireError("frame header must be a JSON object");
  }
  if (header.type !== "frame") {
    throw new WireError(`frame header type is ${JSON.stringify(header.type)}, expected "frame"`);
  }
  if (!Array.isArray(header.parts)) {
    throw new WireError("frame header lacks its parts list");
  }
  const parts = new Map();
  let offset = PREAMBLE_BYTES + headerBytes;
  header.parts.forEach((part, i) => {
    if (part === null || typeof part !== "object") throw new WireError(`part ${i} is not an object`);
    const { kind, mime } = part;
    const size = part.bytes;
    if (typeof kind !== "string" || kind === "") throw new WireError(`part ${i} has no kind`);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new WireError(`part ${i} (${kind}) has a bad size ${JSON.stringify(size)}`);
    }
    if (parts.has(kind)) throw new WireError(`part ${kind} appears twice`);
    if (offset + size > bytes.length) {
      throw new WireError(`part ${kind} claims ${size} bytes; only ${bytes.length - offset} are left`);
    }
    parts.set(kind, { kind, mime: String(mime || ""), bytes: bytes.subarray(offset, offset + size), meta: part });
    offset += size;
  });
  if (offset !== bytes.length) {
    throw new WireError(`frame message has ${bytes.length - offset} bytes after its last part`);
  }
  return { header, parts };
}

/**
 * Build a frame message (the server's side of the format); the tests and the page's
 * self-check use it to make messages whose layout is known.
 * @param {object} header  without `parts`
 * @param {Array<{kind: string, mime: string, bytes: Uint8Array, meta?: object}>} parts
 */
export function buildFrameMessage(header, parts) {
  const described = parts.map((p) => ({ ...(p.meta || {}), kind: p.kind, mime: p.mime, bytes: p.bytes.length }));
  const json = new TextEncoder().encode(JSON.stringify({ ...header, type: "frame", parts: described }));
  const total = PREAMBLE_BYTES + json.length + parts.reduce((n, p) => n + p.bytes.length, 0);
  const out = new Uint8Array(total);
  out.set([0x4f, 0x50, 0x46, 0x31], 0); // "OPF1"
  new DataView(out.buffer).setUint32(4, json.length, false);
  out.set(json, PREAMBLE_BYTES);
  let offset = PREAMBLE_BYTES + json.length;
  for (const p of parts) {
    out.set(p.bytes, offset);
    offset += p.bytes.length;
  }
  return out;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian uint16 samples in `bytes` as a Uint16Array (a copy, aligned). */
export function uint16FromLittleEndian(bytes) {
  if (bytes.length % 2 !== 0) throw new WireError(`uint16 data has an odd length ${bytes.length}`);
  const n = bytes.length / 2;
  const out = new Uint16Array(n);
  if (LITTLE_ENDIAN_HOST) {
    new Uint8Array(out.buffer).set(bytes);
  } else {
    for (let i = 0; i < n; i++) out[i] = bytes[2 * i] | (bytes[2 * i + 1] << 8);
  }
  return out;
}

async function inflate(bytes) {
  if (typeof DecompressionStream !== "function") {
    throw new WireError("this browser has no DecompressionStream: the depth part cannot be read");
  }
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (err) {
    throw new WireError(`depth part is not zlib data: ${err.message}`);
  }
}

/**
 * The depth map of a depth part, millimetres (0 = no return).
 * @returns {Promise<{mm: Uint16Array, width: number, height: number}>}
 */
export async function inflateDepthMm(part) {
  const meta = part.meta || {};
  if (meta.encoding !== undefined && meta.encoding !== DEPTH_ENCODING) {
    throw new WireError(`depth encoding ${JSON.stringify(meta.encoding)} is not ${DEPTH_ENCODING}`);
  }
  if (meta.unit !== undefined && meta.unit !== "mm") {
    throw new WireError(`depth unit ${JSON.stringify(meta.unit)} is not mm`);
  }
  const { width, height } = meta;
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width <= 0 || height <= 0) {
    throw new WireError(`depth part needs a positive width and height, got ${width}x${height}`);
  }
  const raw = await inflate(part.bytes);
  if (raw.length !== width * height * 2) {
    throw new WireError(`depth part inflates to ${raw.length} bytes; ${width}x${height} uint16 is ${width * height * 2}`);
  }
  return { mm: uint16FromLittleEndian(raw), width, height };
}
