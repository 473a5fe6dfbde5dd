// The text in the URL fragment (a link that holds the network) and in local
// storage (across reloads): `#f=lenet5.net&t=…`, the text deflated and base64url
// encoded. The fragment never reaches a server.

const KEY = 'alexnetc.playground';

async function pipe(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  return new Uint8Array(await new Response(new Blob([bytes as BlobPart]).stream().pipeThrough(stream)).arrayBuffer());
}

function toBase64Url(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export interface Saved {
  file: string;
  text: string;
}

export async function encodeFragment(s: Saved): Promise<string> {
  const packed = await pipe(new TextEncoder().encode(s.text), new CompressionStream('deflate-raw'));
  return `#f=${encodeURIComponent(s.file)}&t=${toBase64Url(packed)}`;
}

export async function decodeFragment(hash: string): Promise<Saved | undefined> {
  const p = new URLSearchParams(hash.replace(/^#/, ''));
  const t = p.get('t');
  if (!t) return undefined;
  try {
    const text = new TextDecoder().decode(await pipe(fromBase64Url(t), new DecompressionStream('deflate-raw')));
    return { file: p.get('f') || 'playground.net', text };
  } catch {
    return undefined;
  }
}

export function loadLocal(): Saved | undefined {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as Saved | null;
    return v && typeof v.text === 'string' && typeof v.file === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export function saveLocal(s: Saved): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(s));
  } catch {
    // storage full or disabled: the fragment still holds the text
  }
}
