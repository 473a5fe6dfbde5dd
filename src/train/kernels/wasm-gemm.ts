// A WebAssembly SIMD matrix multiply, assembled here byte by byte (no
// toolchain needed at build time):
//   C[M, N] (+)= A[M, K] · B[K, N]      row-major, N a multiple of 4
// A 4×8 tile of C lives in eight f32x4 registers; each k step loads two B
// vectors, broadcasts four A scalars and does 32 multiply-adds. Operands live
// in one WebAssembly.Memory (the workspace below), so callers build their
// im2col matrices straight into it. Sums are float32, blocked along K by the
// caller so each partial sum stays short; V8 without SIMD gets null and the
// plain-JS GEMM is used instead.

// --- a tiny assembler ------------------------------------------------------
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}
function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

const I32 = 0x7f, V128 = 0x7b;
const get = (l: number) => [0x20, ...uleb(l)];
const set = (l: number) => [0x21, ...uleb(l)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const add = [0x6a], mul = [0x6c], sub = [0x6b];
const gtS = [0x4a], geS = [0x4e], eqz = [0x45];
const f32load = [0x2a, 2, 0];
const simd = (op: number) => [0xfd, ...uleb(op)];
const vload = (off = 0) => [...simd(0x00), 2, ...uleb(off)];
const vstore = (off = 0) => [...simd(0x0b), 2, ...uleb(off)];
const vzero = [...simd(0x0c), ...new Array<number>(16).fill(0)];
const splat = simd(0x13), fadd = simd(0xe4), fmul = simd(0xe6);
const select = [0x1b];
const block = [0x02, 0x40], loop = [0x03, 0x40], end = [0x0b];
const br = (d: number) => [0x0c, ...uleb(d)], brIf = (d: number) => [0x0d, ...uleb(d)];

// Locals: the twelve i32 parameters, then scratch i32s, then v128s. A[i, k]
// is at A + i·lda + k·csa (bytes), so csa = 4 reads A as stored and lda = 4
// reads it transposed. The accumulators start from zero (acc = 0), from C
// (acc = 1) or from the row vector at BIAS (acc = 2: a fused bias add).
const M = 0, N = 1, K = 2, A = 3, LDA = 4, B = 5, LDB = 6, C = 7, LDC = 8, ACC = 9, CSA = 10, BIAS = 11;
const I = 12, J = 13, KK = 14, PA = 15, PB = 16, PC = 17, AROW = 18, CROW = 19;
const ROWA = [-1, 20, 21, 22]; // lda, 2·lda, 3·lda
const ROWC = [-1, 23, 24, 25];
const NI32 = 14;
const VC = 26; // accumulators c[r][v] = VC + 2r + v
const VB = 34, VA = 36;
const eq = [0x46];

/** The tile for R rows × V vectors (4 floats each) at (i, j). */
function tile(R: number, V: number): number[] {
  const code: number[] = [];
  const acc = (r: number, v: number) => VC + 2 * r + v;
  const cAddr = (r: number) => (r === 0 ? get(PC) : [...get(PC), ...get(ROWC[r]!), ...add]);
  // pc = crow + 4j; accumulators start from C, the bias row or zero.
  code.push(...get(CROW), ...get(J), ...i32c(2), 0x74 /* shl */, ...add, ...set(PC));
  for (let r = 0; r < R; r++) {
    for (let v = 0; v < V; v++) {
      code.push(...cAddr(r), ...vload(16 * v),
        ...get(BIAS), ...get(J), ...i32c(2), 0x74, ...add, ...vload(16 * v),
        ...vzero, ...get(ACC), ...i32c(2), ...eq, ...select,
        ...get(ACC), ...i32c(1), ...eq, ...select, ...set(acc(r, v)));
    }
  }
  code.push(...get(AROW), ...set(PA));
  code.push(...get(B), ...get(J), ...i32c(2), 0x74, ...add, ...set(PB));
  code.push(...get(K), ...set(KK));
  code.push(...block, ...loop);
  code.push(...get(KK), ...eqz, ...brIf(1));
  for (let v = 0; v < V; v++) code.push(...get(PB), ...vload(16 * v), ...set(VB + v));
  for (let r = 0; r < R; r++) {
    code.push(...(r === 0 ? get(PA) : [...get(PA), ...get(ROWA[r]!), ...add]), ...f32load, ...splat, ...set(VA));
    for (let v = 0; v < V; v++) {
      code.push(...get(acc(r, v)), ...get(VA), ...get(VB + v), ...fmul, ...fadd, ...set(acc(r, v)));
    }
  }
  code.push(...get(PA), ...get(CSA), ...add, ...set(PA));
  code.push(...get(PB), ...get(LDB), ...add, ...set(PB));
  code.push(...get(KK), ...i32c(1), ...sub, ...set(KK));
  code.push(...br(0), ...end, ...end);
  for (let r = 0; r < R; r++) {
    for (let v = 0; v < V; v++) code.push(...cAddr(r), ...get(acc(r, v)), ...vstore(16 * v));
  }
  return code;
}

/** for (j = 0; j + 4·V <= N; j += 4·V) tile(R, V), as a block. */
function jLoop(R: number, V: number, resetJ: boolean): number[] {
  return [
    ...(resetJ ? [...i32c(0), ...set(J)] : []),
    ...block, ...loop,
    ...get(J), ...i32c(4 * V), ...add, ...get(N), ...gtS, ...brIf(1),
    ...tile(R, V),
    ...get(J), ...i32c(4 * V), ...add, ...set(J),
    ...br(0), ...end, ...end,
  ];
}

function rowSetup(): number[] {
  return [
    ...get(A), ...get(I), ...get(LDA), ...mul, ...add, ...set(AROW),
    ...get(C), ...get(I), ...get(LDC), ...mul, ...add, ...set(CROW),
  ];
}

function gemmBody(): number[] {
  const code: number[] = [];
  for (let r = 1; r < 4; r++) {
    code.push(...get(LDA), ...i32c(r), ...mul, ...set(ROWA[r]!));
    code.push(...get(LDC), ...i32c(r), ...mul, ...set(ROWC[r]!));
  }
  code.push(...i32c(0), ...set(I));
  // Blocks of four rows: 4×8 tiles, then one 4×4 tile if N % 8 == 4.
  code.push(...block, ...loop,
    ...get(I), ...i32c(4), ...add, ...get(M), ...gtS, ...brIf(1),
    ...rowSetup(), ...jLoop(4, 2, true), ...jLoop(4, 1, false),
    ...get(I), ...i32c(4), ...add, ...set(I),
    ...br(0), ...end, ...end);
  // Leftover rows one at a time, 1×4 tiles.
  code.push(...block, ...loop,
    ...get(I), ...get(M), ...geS, ...brIf(1),
    ...rowSetup(), ...jLoop(1, 1, true),
    ...get(I), ...i32c(1), ...add, ...set(I),
    ...br(0), ...end, ...end);
  return code;
}

// Patch copies for convolutions whose every tap is inside the image (no
// padding, no dilation): for each output position and filter row, FW·C floats
// of x are contiguous. Parameters (bytes for addresses and ld):
//   src, dst, N, H, W, C, OH, OW, FH, FW, SH, SW, ld
// im2col: src = x, dst = cols (rows ld apart); copies 16 bytes at a time and
//   may write up to 12 bytes past a run (the next run overwrites them; the
//   caller leaves slack after cols) and read up to 12 past x.
// col2im: src = dcols (rows ld apart), dst = dx; adds, exactly run by run.
const P_SRC = 0, P_DST = 1, P_N = 2, P_H = 3, P_W = 4, P_C = 5, P_OH = 6, P_OW = 7;
const P_FH = 8, P_FW = 9, P_SH = 10, P_SW = 11, P_LD = 12;
const L_N = 13, L_OH = 14, L_OW = 15, L_R = 16, L_T = 17, L_RUN = 18, L_ROWX = 19;
const L_XN = 20, L_XH = 21, L_S = 22, L_O = 23, L_OROW = 24;
const NPATCH_I32 = 12;
const ltS = [0x48];

/** do { body } while (++local < limit) */
function doWhile(local: number, limit: number, body: number[]): number[] {
  return [...i32c(0), ...set(local), ...loop, ...body,
    ...get(local), ...i32c(1), ...add, ...set(local), ...get(local), ...get(limit), ...ltS, ...brIf(0), ...end];
}

function patchBody(accumulate: boolean): number[] {
  // Addresses: x side = xs (s walks it), cols side = o.
  const xBase = accumulate ? P_DST : P_SRC, cBase = accumulate ? P_SRC : P_DST;
  let copy: number[];
  if (!accumulate) {
    copy = [...i32c(0), ...set(L_T), ...loop,
      ...get(L_O), ...get(L_T), ...add, ...get(L_S), ...get(L_T), ...add, ...vload(), ...vstore(),
      ...get(L_T), ...i32c(16), ...add, ...set(L_T),
      ...get(L_T), ...get(L_RUN), ...ltS, ...brIf(0), ...end];
  } else {
    const at = (base: number) => [...get(base), ...get(L_T), ...add];
    copy = [...i32c(0), ...set(L_T),
      ...block, ...loop,
      ...get(L_T), ...i32c(16), ...add, ...get(L_RUN), ...gtS, ...brIf(1),
      ...at(L_S), ...at(L_S), ...vload(), ...at(L_O), ...vload(), ...fadd, ...vstore(),
      ...get(L_T), ...i32c(16), ...add, ...set(L_T), ...br(0), ...end, ...end,
      ...block, ...loop,
      ...get(L_T), ...get(L_RUN), ...geS, ...brIf(1),
      ...at(L_S), ...at(L_S), ...f32load, ...at(L_O), ...f32load, 0x92 /* f32.add */, 0x38, 2, 0 /* f32.store */,
      ...get(L_T), ...i32c(4), ...add, ...set(L_T), ...br(0), ...end, ...end];
  }
  const rBody = [...copy,
    ...get(L_O), ...get(L_RUN), ...add, ...set(L_O),
    ...get(L_S), ...get(L_ROWX), ...add, ...set(L_S)];
  const owBody = [
    ...get(L_OROW), ...set(L_O),
    ...get(L_XH), ...get(L_OW), ...get(P_SW), ...mul, ...get(P_C), ...mul, ...i32c(4), ...mul, ...add, ...set(L_S),
    ...doWhile(L_R, P_FH, rBody),
    ...get(L_OROW), ...get(P_LD), ...add, ...set(L_OROW)];
  const ohBody = [
    ...get(L_XN), ...get(L_OH), ...get(P_SH), ...mul, ...get(L_ROWX), ...mul, ...add, ...set(L_XH),
    ...doWhile(L_OW, P_OW, owBody)];
  const nBody = [
    ...get(xBase), ...get(L_N), ...get(P_H), ...mul, ...get(L_ROWX), ...mul, ...add, ...set(L_XN),
    ...doWhile(L_OH, P_OH, ohBody)];
  return [
    ...get(P_FW), ...get(P_C), ...mul, ...i32c(4), ...mul, ...set(L_RUN),
    ...get(P_W), ...get(P_C), ...mul, ...i32c(4), ...mul, ...set(L_ROWX),
    ...get(cBase), ...set(L_OROW),
    ...doWhile(L_N, P_N, nBody)];
}

// tanh(src, dst, n bytes, a multiple of 16; the workspace has slack): the
// rational approximation of tanh.ts in float32 lanes, input clamped to
// ±7.905 (≤ 4e-7 from tanh; NaN stays NaN). ~3× the JS loop's speed.
function vconst(v: number): number[] {
  const b = new Uint8Array(new Float32Array([v, v, v, v]).buffer);
  return [...simd(0x0c), ...b];
}
// pmin/pmax (b < a ? b : a, a < b ? b : a) are single minps/maxps and keep a
// NaN in a; min/max would cost a NaN-canonicalising sequence each.
const fdiv = simd(0xe7), fpmin = simd(0xea), fpmax = simd(0xeb);
const TANH_NUM = [-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11, 5.12229709037114e-08,
  1.48572235717979e-05, 6.37261928875436e-04, 4.89352455891786e-03];
const TANH_DEN = [1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03, 4.89352518554385e-03];
// Constants live in v128 locals: V8 rematerialises a v128.const at each use.
const TANH_V128 = 4 + TANH_NUM.length + TANH_DEN.length;

function tanhBody(): number[] {
  const SRC = 0, DST = 1, NB = 2, T = 3, X = 4, X2 = 5, HI = 6, LO = 7, NUM = 8, DEN = NUM + TANH_NUM.length;
  const at = (base: number) => [...get(base), ...get(T), ...add];
  const horner = (first: number, count: number) => {
    const code = get(first);
    for (let i = 1; i < count; i++) code.push(...get(X2), ...fmul, ...get(first + i), ...fadd);
    return code;
  };
  const code = [...vconst(7.90531110763549805), ...set(HI), ...vconst(-7.90531110763549805), ...set(LO)];
  TANH_NUM.forEach((c, i) => code.push(...vconst(c), ...set(NUM + i)));
  TANH_DEN.forEach((c, i) => code.push(...vconst(c), ...set(DEN + i)));
  code.push(...i32c(0), ...set(T), ...block, ...loop,
    ...get(T), ...get(NB), ...geS, ...brIf(1),
    ...at(DST),
    ...at(SRC), ...vload(), ...get(HI), ...fpmin, ...get(LO), ...fpmax,
    ...set(X), ...get(X), ...get(X), ...fmul, ...set(X2),
    ...get(X), ...horner(NUM, TANH_NUM.length), ...fmul,
    ...horner(DEN, TANH_DEN.length), ...fdiv,
    ...vstore(),
    ...get(T), ...i32c(16), ...add, ...set(T), ...br(0), ...end, ...end);
  return code;
}

// tanhGrad(y, dy, dst, n bytes): dst = (1 − y²)·dy, the stock gradient's three
// float32 roundings in the same order, so bit-identical to it.
function tanhGradBody(): number[] {
  const Y = 0, DY = 1, DST = 2, NB = 3, T = 4, V = 5, ONE = 6;
  const at = (base: number) => [...get(base), ...get(T), ...add];
  return [...vconst(1), ...set(ONE),
    ...i32c(0), ...set(T), ...block, ...loop,
    ...get(T), ...get(NB), ...geS, ...brIf(1),
    ...at(DST),
    ...get(ONE), ...at(Y), ...vload(), ...set(V), ...get(V), ...get(V), ...fmul, ...simd(0xe5) /* f32x4.sub */,
    ...at(DY), ...vload(), ...fmul,
    ...vstore(),
    ...get(T), ...i32c(16), ...add, ...set(T), ...br(0), ...end, ...end];
}

// copyRows(src, srcStride, dst, dstStride, rows, run): run bytes per row, 16
// at a time, rows in order. Writes up to 12 bytes past each run (the next
// row overwrites them when rows are packed; the workspace has slack after
// the last) and may read as far past each source run.
function copyRowsBody(): number[] {
  const SRC = 0, SS = 1, DST = 2, DS = 3, ROWS = 4, RUN = 5, R = 6, T = 7;
  const rowBody = [
    ...i32c(0), ...set(T), ...loop,
    ...get(DST), ...get(T), ...add, ...get(SRC), ...get(T), ...add, ...vload(), ...vstore(),
    ...get(T), ...i32c(16), ...add, ...set(T),
    ...get(T), ...get(RUN), ...ltS, ...brIf(0), ...end,
    ...get(SRC), ...get(SS), ...add, ...set(SRC),
    ...get(DST), ...get(DS), ...add, ...set(DST)];
  return [...block, ...get(ROWS), ...i32c(1), ...ltS, ...get(RUN), ...i32c(1), ...ltS, 0x72 /* i32.or */, ...brIf(0),
    ...doWhile(R, ROWS, rowBody), ...end];
}

// sumRows(src, rows, pairs, acc): acc[j] += Σ_r src[r, j] for float32 rows of
// 2·pairs values, acc float64 (16-byte aligned). Each column is summed in
// doubles, rows in order, as the stock Sum does, so the results are identical.
function sumRowsBody(): number[] {
  const SRC = 0, ROWS = 1, PAIRS = 2, ACC = 3, R = 4, P = 5, A = 6;
  const pairBody = [
    ...get(A), ...get(A), ...vload(),
    ...get(SRC), ...simd(0x5d), 3, 0 /* v128.load64_zero */, ...simd(0x5f) /* f64x2.promote_low_f32x4 */,
    ...simd(0xf0) /* f64x2.add */, ...vstore(),
    ...get(SRC), ...i32c(8), ...add, ...set(SRC),
    ...get(A), ...i32c(16), ...add, ...set(A)];
  return [...block, ...get(ROWS), ...i32c(1), ...ltS, ...get(PAIRS), ...i32c(1), ...ltS, 0x72, ...brIf(0),
    ...doWhile(R, ROWS, [...get(ACC), ...set(A), ...doWhile(P, PAIRS, pairBody)]), ...end];
}

// avgPool(x, y, N, H, W, C, OH, OW, FH, FW, SH, SW, _): windows inside the
// image, C even. Two channels per f64x2 lane pair, taps summed in doubles in
// the stock order (window row, then column), divided by FH·FW, rounded to
// float32: the stock kernel's arithmetic exactly.
function avgPoolBody(): number[] {
  const X = 0, Y = 1, PN = 2, H = 3, W = 4, C = 5, OH = 6, OW = 7, FH = 8, FW = 9, SH = 10, SW = 11;
  const n = 13, oh = 14, ow = 15, p = 16, r = 17, q = 18, base = 19, rp = 20, tp = 21, yp = 22, cb = 23, wb = 24;
  const npairs = 25, accV = 26, cnt = 27;
  const qBody = [
    ...get(accV), ...get(tp), ...simd(0x5d), 3, 0, ...simd(0x5f), ...simd(0xf0), ...set(accV),
    ...get(tp), ...get(cb), ...add, ...set(tp)];
  const rBody = [...get(rp), ...set(tp), ...doWhile(q, FW, qBody), ...get(rp), ...get(wb), ...add, ...set(rp)];
  const pBody = [
    ...vzero, ...set(accV),
    ...get(base), ...get(p), ...i32c(8), ...mul, ...add, ...set(rp),
    ...doWhile(r, FH, rBody),
    ...get(yp), ...get(accV), ...get(cnt), ...simd(0xf3) /* f64x2.div */, ...simd(0x5e) /* f32x4.demote_f64x2_zero */,
    ...simd(0x5b), 3, 0, 0 /* v128.store64_lane 0 */,
    ...get(yp), ...i32c(8), ...add, ...set(yp)];
  const owBody = [
    ...get(X), ...get(n), ...get(H), ...mul, ...get(oh), ...get(SH), ...mul, ...add, ...get(W), ...mul,
    ...get(ow), ...get(SW), ...mul, ...add, ...get(cb), ...mul, ...add, ...set(base),
    ...doWhile(p, npairs, pBody)];
  return [
    ...get(C), ...i32c(4), ...mul, ...set(cb),
    ...get(W), ...get(cb), ...mul, ...set(wb),
    ...get(C), ...i32c(1), 0x76 /* i32.shr_u */, ...set(npairs),
    ...get(FH), ...get(FW), ...mul, 0xb7 /* f64.convert_i32_s */, ...simd(0x14) /* f64x2.splat */, ...set(cnt),
    ...get(Y), ...set(yp),
    ...doWhile(n, PN, doWhile(oh, OH, doWhile(ow, OW, owBody)))];
}

// avgPoolGradTile(dy, dx, N, H, W, C, OH, OW, FH, FW, _, _, _): windows that
// tile the image (stride = window, no padding), C even: every covered dx cell
// is dy·(1/(FH·FW)) in doubles rounded to float32, as in the stock kernel.
// dx must be zeroed by the caller (cells past the last window stay 0).
function avgPoolGradTileBody(): number[] {
  const DY = 0, DX = 1, PN = 2, H = 3, W = 4, C = 5, OH = 6, OW = 7, FH = 8, FW = 9;
  const n = 13, oh = 14, ow = 15, p = 16, r = 17, q = 18, base = 19, rp = 20, tp = 21, dyp = 22, cb = 23, wb = 24;
  const npairs = 25, v = 26, inv = 27;
  const qBody = [...get(tp), ...get(v), ...simd(0x5b), 3, 0, 0, ...get(tp), ...get(cb), ...add, ...set(tp)];
  const rBody = [...get(rp), ...set(tp), ...doWhile(q, FW, qBody), ...get(rp), ...get(wb), ...add, ...set(rp)];
  const pBody = [
    ...get(dyp), ...simd(0x5d), 3, 0, ...simd(0x5f), ...get(inv), ...simd(0xf2) /* f64x2.mul */, ...simd(0x5e), ...set(v),
    ...get(dyp), ...i32c(8), ...add, ...set(dyp),
    ...get(base), ...get(p), ...i32c(8), ...mul, ...add, ...set(rp),
    ...doWhile(r, FH, rBody)];
  const owBody = [
    ...get(DX), ...get(n), ...get(H), ...mul, ...get(oh), ...get(FH), ...mul, ...add, ...get(W), ...mul,
    ...get(ow), ...get(FW), ...mul, ...add, ...get(cb), ...mul, ...add, ...set(base),
    ...doWhile(p, npairs, pBody)];
  return [
    ...get(C), ...i32c(4), ...mul, ...set(cb),
    ...get(W), ...get(cb), ...mul, ...set(wb),
    ...get(C), ...i32c(1), 0x76, ...set(npairs),
    0x44, ...new Uint8Array(new Float64Array([1]).buffer) /* f64.const 1 */,
    ...get(FH), ...get(FW), ...mul, 0xb7, 0xa3 /* f64.div */, ...simd(0x14), ...set(inv),
    ...get(DY), ...set(dyp),
    ...doWhile(n, PN, doWhile(oh, OH, doWhile(ow, OW, owBody)))];
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const gemmType = [0x60, ...vec(new Array(12).fill([I32])), 0];
  const patchType = [0x60, ...vec(new Array(13).fill([I32])), 0];
  const imports = vec([[...str('e'), ...str('m'), 0x02, 0x00, 1]]);
  const fn = (locals: number[][], code: number[]) => {
    const body = [...vec(locals), ...code, ...end];
    return [...uleb(body.length), ...body];
  };
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([gemmType, patchType, [0x60, ...vec([[I32], [I32], [I32]]), 0],
      [0x60, ...vec([[I32], [I32], [I32], [I32]]), 0], [0x60, ...vec(new Array(6).fill([I32])), 0]])),
    ...section(2, imports),
    ...section(3, vec([[0], [1], [1], [2], [3], [4], [3], [1], [1]])),
    ...section(7, vec([[...str('gemm'), 0x00, 0], [...str('im2col'), 0x00, 1], [...str('col2im'), 0x00, 2],
      [...str('tanh'), 0x00, 3], [...str('tanhGrad'), 0x00, 4], [...str('copyRows'), 0x00, 5],
      [...str('sumRows'), 0x00, 6], [...str('avgPool'), 0x00, 7],
      [...str('avgPoolGradTile'), 0x00, 8]])),
    ...section(10, vec([
      fn([[...uleb(NI32), I32], [...uleb(12), V128]], gemmBody()),
      fn([[...uleb(NPATCH_I32), I32]], patchBody(false)),
      fn([[...uleb(NPATCH_I32), I32]], patchBody(true)),
      fn([[1, I32], [TANH_V128, V128]], tanhBody()),
      fn([[1, I32], [2, V128]], tanhGradBody()),
      fn([[2, I32]], copyRowsBody()),
      fn([[3, I32]], sumRowsBody()),
      fn([[13, I32], [2, V128]], avgPoolBody()),
      fn([[13, I32], [2, V128]], avgPoolGradTileBody()),
    ])),
  ]);
}

// --- the workspace and the call -----------------------------------------------

type GemmFn = (m: number, n: number, k: number, a: number, lda: number, b: number, ldb: number,
  c: number, ldc: number, acc: number, csa: number, bias: number) => void;
type PatchFn = (src: number, dst: number, n: number, h: number, w: number, c: number, oh: number, ow: number,
  fh: number, fw: number, sh: number, sw: number, ld: number) => void;
interface Wasm {
  fn: GemmFn; im2col: PatchFn; col2im: PatchFn; ws: Workspace;
  tanh: (src: number, dst: number, n: number) => void;
  tanhGrad: (y: number, dy: number, dst: number, n: number) => void;
  copyRows: (src: number, ss: number, dst: number, ds: number, rows: number, run: number) => void;
  sumRows: (src: number, rows: number, pairs: number, acc: number) => void;
  avgPool: PatchFn;
  avgPoolGradTile: PatchFn;
}

export interface Workspace {
  /** Grows the memory to hold the given float counts; returns their float offsets. */
  layout(sizes: number[]): number[];
  /** The whole memory as floats (valid until the next layout()). */
  f32: Float32Array;
}

let instance: Wasm | null | undefined;

function load(): Wasm | null {
  if (instance !== undefined) return instance;
  try {
    const memory = new WebAssembly.Memory({ initial: 16 });
    const mod = new WebAssembly.Module(moduleBytes());
    const inst = new WebAssembly.Instance(mod, { e: { m: memory } });
    const ws: Workspace = {
      f32: new Float32Array(memory.buffer),
      layout(sizes) {
        const offs: number[] = [];
        let total = 0;
        for (const s of sizes) {
          offs.push(total);
          total += (s + 4 + 15) & ~15; // 64-byte aligned starts, ≥ 4 floats of slack after each
        }
        const need = total * 4;
        if (need > memory.buffer.byteLength) {
          memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
        }
        if (this.f32.buffer !== memory.buffer) this.f32 = new Float32Array(memory.buffer);
        return offs;
      },
    };
    const ex = inst.exports;
    instance = {
      fn: ex.gemm as GemmFn, im2col: ex.im2col as PatchFn, col2im: ex.col2im as PatchFn, ws,
      tanh: ex.tanh as Wasm['tanh'], tanhGrad: ex.tanhGrad as Wasm['tanhGrad'],
      copyRows: ex.copyRows as Wasm['copyRows'], sumRows: ex.sumRows as Wasm['sumRows'],
      avgPool: ex.avgPool as PatchFn, avgPoolGradTile: ex.avgPoolGradTile as PatchFn,
    };
  } catch {
    instance = null; // no wasm SIMD here
  }
  return instance;
}

/** The wasm workspace, or null when wasm SIMD is unavailable. */
export function wasmWorkspace(): Workspace | null {
  return load()?.ws ?? null;
}

/** Reduction block: a 4-row A strip and an 8-column B panel stay in L1. */
const KC = 256;

/**
 * C[M, N] = A[M, K] · B[K, N] (+ bias[N] on every row) over workspace float
 * offsets, leading dims in floats; N % 4 == 0 and ldb, ldc ≥ N. A[i, k] is at
 * a + i·lda + k·csa. bias < 0: none.
 */
export function wasmGemm(
  M: number, N: number, K: number, a: number, lda: number, b: number, ldb: number, c: number, ldc: number,
  csa = 1, bias = -1,
): void {
  const { fn, ws } = load()!;
  if (K === 0) {
    for (let i = 0; i < M; i++) {
      if (bias < 0) ws.f32.fill(0, c + i * ldc, c + i * ldc + N);
      else ws.f32.copyWithin(c + i * ldc, bias, bias + N);
    }
    return;
  }
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = Math.min(KC, K - k0);
    const start = k0 > 0 ? 1 : bias >= 0 ? 2 : 0;
    fn(M, N, kc, (a + k0 * csa) * 4, lda * 4, (b + k0 * ldb) * 4, ldb * 4, c * 4, ldc * 4, start, csa * 4,
      Math.max(bias, 0) * 4);
  }
}

/** Geometry of a convolution the wasm patch copies handle, or null. */
export interface PatchGeom {
  N: number; H: number; W: number; C: number; OH: number; OW: number;
  FH: number; FW: number; SH: number; SW: number;
}

/**
 * cols[M, ld] (float offsets in the workspace) from x; every tap must be in
 * the image. Leaves garbage in the ld − K pad columns.
 */
export function wasmIm2col(g: PatchGeom, x: number, cols: number, ld: number): void {
  if (g.N * g.OH * g.OW * g.FH * g.FW * g.C === 0) return;
  load()!.im2col(x * 4, cols * 4, g.N, g.H, g.W, g.C, g.OH, g.OW, g.FH, g.FW, g.SH, g.SW, ld * 4);
}

/** dx += col2im(dcols[M, ld]); dx zeroed by the caller; every tap in the image. */
export function wasmCol2im(g: PatchGeom, dcols: number, ld: number, dx: number): void {
  if (g.N * g.OH * g.OW * g.FH * g.FW * g.C === 0) return;
  load()!.col2im(dcols * 4, dx * 4, g.N, g.H, g.W, g.C, g.OH, g.OW, g.FH, g.FW, g.SH, g.SW, ld * 4);
}

/** tanh(x) as a new array, or null without wasm. */
export function wasmTanh(x: Float32Array): Float32Array | null {
  const w = load();
  if (w === null) return null;
  const n = x.length;
  const [ox, oy] = w.ws.layout([n, n]) as [number, number];
  w.ws.f32.set(x, ox);
  w.tanh(ox * 4, oy * 4, ((n + 3) & ~3) * 4);
  return w.ws.f32.slice(oy, oy + n);
}

/** (1 − y²)·dy as a new array, or null without wasm. */
export function wasmTanhGrad(y: Float32Array, dy: Float32Array): Float32Array | null {
  const w = load();
  if (w === null) return null;
  const n = y.length;
  const [oy, od, oo] = w.ws.layout([n, n, n]) as [number, number, number];
  w.ws.f32.set(y, oy);
  w.ws.f32.set(dy.subarray(0, n), od);
  w.tanhGrad(oy * 4, od * 4, oo * 4, ((n + 3) & ~3) * 4);
  return w.ws.f32.slice(oo, oo + n);
}

/**
 * Rows of `cols` floats from src (rows srcLd apart) to dst (dstLd apart),
 * float offsets in the workspace; dst rows must not overlap src, and up to 3
 * floats past each dst row may be overwritten (see copyRowsBody).
 */
export function wasmCopyRows(src: number, srcLd: number, dst: number, dstLd: number, rows: number, cols: number): void {
  load()!.copyRows(src * 4, srcLd * 4, dst * 4, dstLd * 4, rows, cols * 4);
}

/** Column sums of x[rows, inner] (inner even) in doubles, rows in order; null without wasm. */
export function wasmSumRows(x: Float32Array, rows: number, inner: number): Float32Array | null {
  const w = load();
  if (w === null || inner % 2 !== 0) return null;
  const [ox, oacc] = w.ws.layout([rows * inner, 2 * inner]) as [number, number];
  const f = w.ws.f32;
  f.set(x.subarray(0, rows * inner), ox);
  f.fill(0, oacc, oacc + 2 * inner);
  w.sumRows(ox * 4, rows, inner / 2, oacc * 4);
  return Float32Array.from(new Float64Array(f.buffer, oacc * 4, inner));
}

/** Average pooling, every window inside the image and C even; null without wasm. */
export function wasmAvgPool(x: Float32Array, g: PatchGeom): Float32Array | null {
  const w = load();
  if (w === null || g.C % 2 !== 0) return null;
  const nx = g.N * g.H * g.W * g.C, ny = g.N * g.OH * g.OW * g.C;
  const [ox, oy] = w.ws.layout([nx, ny]) as [number, number];
  w.ws.f32.set(x.subarray(0, nx), ox);
  if (ny > 0 && g.FH * g.FW > 0) {
    w.avgPool(ox * 4, oy * 4, g.N, g.H, g.W, g.C, g.OH, g.OW, g.FH, g.FW, g.SH, g.SW, 0);
  }
  return w.ws.f32.slice(oy, oy + ny);
}

/** AvgPoolGrad for windows tiling the image (stride = window, no padding), C even; null without wasm. */
export function wasmAvgPoolGradTile(dy: Float32Array, g: PatchGeom): Float32Array | null {
  const w = load();
  if (w === null || g.C % 2 !== 0) return null;
  const nx = g.N * g.H * g.W * g.C, ny = g.N * g.OH * g.OW * g.C;
  const [ody, odx] = w.ws.layout([ny, nx]) as [number, number];
  const f = w.ws.f32;
  f.set(dy.subarray(0, ny), ody);
  f.fill(0, odx, odx + nx);
  if (ny > 0 && g.FH * g.FW > 0) {
    w.avgPoolGradTile(ody * 4, odx * 4, g.N, g.H, g.W, g.C, g.OH, g.OW, g.FH, g.FW, 0, 0, 0);
  }
  return f.slice(odx, odx + nx);
}
