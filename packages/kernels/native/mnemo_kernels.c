/*
 * Memory-bound training kernels for the tfjs wasm backend, compiled to wasm32 + SIMD128.
 *
 * The module IMPORTS the tfjs backend's linear memory, so every pointer is a byte offset into
 * the tfjs heap and no data is copied. Hence the rules this file obeys:
 *   - no static data and no stack use (the linker's stack/data would overlap tfjs's heap):
 *     leaf functions only, scalars in locals, every scratch buffer passed in by the caller;
 *   - reentrant: called from the JS main thread between XNNPACK ops, and (second instance on the
 *     same shared memory) from one helper worker that takes half of a split call (src/native.ts).
 * Build: ./build.sh (clang + wasm-ld from Debian's clang/lld). The .wasm files are committed.
 */
#include <stdint.h>
#include <wasm_simd128.h>

#define EXPORT(name) __attribute__((export_name(#name)))

/* s1[c] += Σ_r x[r,c]; s2[c] += Σ_r x[r,c]² (float64 accumulators, C % 4 == 0 path vectorised). */
EXPORT(row_stats)
void row_stats(const float* x, int M, int C, double* s1, double* s2, int squares) {
  int C4 = C & ~3;
  for (int r = 0; r < M; r++) {
    const float* row = x + (long)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t v = wasm_v128_load(row + c);
      v128_t lo = wasm_f64x2_promote_low_f32x4(v);
      v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
      wasm_v128_store(s1 + c, wasm_f64x2_add(wasm_v128_load(s1 + c), lo));
      wasm_v128_store(s1 + c + 2, wasm_f64x2_add(wasm_v128_load(s1 + c + 2), hi));
      if (squares) {
        wasm_v128_store(s2 + c, wasm_f64x2_add(wasm_v128_load(s2 + c), wasm_f64x2_mul(lo, lo)));
        wasm_v128_store(s2 + c + 2, wasm_f64x2_add(wasm_v128_load(s2 + c + 2), wasm_f64x2_mul(hi, hi)));
      }
    }
    for (; c < C; c++) {
      double v = row[c];
      s1[c] += v;
      if (squares) s2[c] += v * v;
    }
  }
}

/* y = x·scale[c] + shift[c], then max(·, 0) if relu. */
EXPORT(affine_rows)
void affine_rows(const float* x, float* y, int M, int C, const float* scale, const float* shift, int relu) {
  int C4 = C & ~3;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = 0; r < M; r++) {
    const float* xr = x + (long)r * C;
    float* yr = y + (long)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + c), wasm_v128_load(scale + c)), wasm_v128_load(shift + c));
      if (relu) v = wasm_f32x4_max(v, zero);
      wasm_v128_store(yr + c, v);
    }
    for (; c < C; c++) {
      float v = xr[c] * scale[c] + shift[c];
      yr[c] = relu ? (v > 0.f ? v : 0.f) : v;
    }
  }
}

/* g = relu ? (y > 0 ? dy : 0) : dy;  sg[c] += Σ g;  sgx[c] += Σ g·x  (float64). */
EXPORT(bn_grad_stats)
void bn_grad_stats(const float* dy, const float* x, const float* y, int M, int C, int relu, double* sg, double* sgx) {
  int C4 = C & ~3;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = 0; r < M; r++) {
    long o = (long)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t g = wasm_v128_load(dy + o + c);
      if (relu) g = wasm_v128_and(g, wasm_f32x4_gt(wasm_v128_load(y + o + c), zero));
      v128_t gx = wasm_f32x4_mul(g, wasm_v128_load(x + o + c));
      v128_t glo = wasm_f64x2_promote_low_f32x4(g);
      v128_t ghi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(g, g, 2, 3, 0, 1));
      v128_t xlo = wasm_f64x2_promote_low_f32x4(gx);
      v128_t xhi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(gx, gx, 2, 3, 0, 1));
      wasm_v128_store(sg + c, wasm_f64x2_add(wasm_v128_load(sg + c), glo));
      wasm_v128_store(sg + c + 2, wasm_f64x2_add(wasm_v128_load(sg + c + 2), ghi));
      wasm_v128_store(sgx + c, wasm_f64x2_add(wasm_v128_load(sgx + c), xlo));
      wasm_v128_store(sgx + c + 2, wasm_f64x2_add(wasm_v128_load(sgx + c + 2), xhi));
    }
    for (; c < C; c++) {
      float g = (relu && !(y[o + c] > 0.f)) ? 0.f : dy[o + c];
      sg[c] += g;
      sgx[c] += (double)g * x[o + c];
    }
  }
}

/* dx = A[c]·g + B[c]·x + K[c] with g as in bn_grad_stats. */
EXPORT(bn_grad_apply)
void bn_grad_apply(const float* dy, const float* x, const float* y, float* dx, int M, int C, int relu,
                   const float* A, const float* B, const float* K) {
  int C4 = C & ~3;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = 0; r < M; r++) {
    long o = (long)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t g = wasm_v128_load(dy + o + c);
      if (relu) g = wasm_v128_and(g, wasm_f32x4_gt(wasm_v128_load(y + o + c), zero));
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(A + c), g), wasm_f32x4_mul(wasm_v128_load(B + c), wasm_v128_load(x + o + c)));
      wasm_v128_store(dx + o + c, wasm_f32x4_add(v, wasm_v128_load(K + c)));
    }
    for (; c < C; c++) {
      float g = (relu && !(y[o + c] > 0.f)) ? 0.f : dy[o + c];
      dx[o + c] = A[c] * g + B[c] * x[o + c] + K[c];
    }
  }
}

/*
 * Max-pool gradient (NHWC). dx must be zeroed by the caller. Each dy goes to the FIRST maximum of
 * its window in row-major order (the cpu backend's rule), found in two SIMD passes per window.
 */
EXPORT(max_pool_grad)
void max_pool_grad(const float* x, const float* dy, float* dx, int N, int H, int W, int C, int OH, int OW,
                   int FH, int FW, int SH, int SW, int padT, int padL) {
  int C4 = C & ~3;
  for (int n = 0; n < N; n++) {
    for (int oy = 0; oy < OH; oy++) {
      int y0 = oy * SH - padT, y1 = y0 + FH;
      if (y0 < 0) y0 = 0;
      if (y1 > H) y1 = H;
      for (int ox = 0; ox < OW; ox++) {
        int x0 = ox * SW - padL, x1 = x0 + FW;
        if (x0 < 0) x0 = 0;
        if (x1 > W) x1 = W;
        const float* g = dy + (((long)n * OH + oy) * OW + ox) * C;
        int c = 0;
        for (; c < C4; c += 4) {
          v128_t best = wasm_f32x4_splat(-__builtin_inff());
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++)
              best = wasm_f32x4_max(best, wasm_v128_load(x + (((long)n * H + yy) * W + xx) * C + c));
          v128_t taken = wasm_i32x4_splat(0);
          v128_t gv = wasm_v128_load(g + c);
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) {
              long i = (((long)n * H + yy) * W + xx) * C + c;
              v128_t hit = wasm_v128_andnot(wasm_f32x4_eq(wasm_v128_load(x + i), best), taken);
              taken = wasm_v128_or(taken, hit);
              wasm_v128_store(dx + i, wasm_f32x4_add(wasm_v128_load(dx + i), wasm_v128_and(gv, hit)));
            }
        }
        for (; c < C; c++) {
          float best = -__builtin_inff();
          long at = -1;
          for (int yy = y0; yy < y1; yy++)
            for (int xx = x0; xx < x1; xx++) {
              long i = (((long)n * H + yy) * W + xx) * C + c;
              if (x[i] > best) { best = x[i]; at = i; }
            }
          if (at >= 0) dx[at] += g[c];
        }
      }
    }
  }
}

/*
 * Transposed im2col straight from NHWC x: cols[(kh,kw,ci), (n,oy,ox)], zeros where the window
 * lies in the padding. Each (n, oy) output row touches only KH input rows, so the strided reads
 * stay in cache while the writes run along contiguous column rows.
 */
EXPORT(im2col_t_range)
void im2col_t_range(const float* x, float* cols, int N, int H, int W, int CI, int OH, int OW, int KH, int KW,
                    int SH, int SW, int padT, int padL, int n0, int n1) {
  long P = (long)N * OH * OW;
  for (int n = n0; n < n1; n++)
    for (int oy = 0; oy < OH; oy++) {
      long p0 = ((long)n * OH + oy) * OW;
      for (int kh = 0; kh < KH; kh++) {
        int iy = oy * SH + kh - padT;
        for (int kw = 0; kw < KW; kw++) {
          int lo = padL - kw > 0 ? (padL - kw + SW - 1) / SW : 0;
          int hi = (W - 1 + padL - kw) >= 0 ? (W - 1 + padL - kw) / SW + 1 : 0;
          if (hi > OW) hi = OW;
          float* d0 = cols + (long)(kh * KW + kw) * CI * P + p0;
          if (iy < 0 || iy >= H || hi <= lo) {
            for (int ci = 0; ci < CI; ci++)
              for (int ox = 0; ox < OW; ox++) d0[ci * P + ox] = 0.f;
            continue;
          }
          const float* row = x + ((long)n * H + iy) * W * CI;
          for (int ci = 0; ci < CI; ci++) {
            float* d = d0 + ci * P;
            const float* src = row + ci + (long)(kw - padL) * CI;
            int ox = 0;
            for (; ox < lo; ox++) d[ox] = 0.f;
            for (; ox < hi; ox++) d[ox] = src[(long)ox * SW * CI];
            for (; ox < OW; ox++) d[ox] = 0.f;
          }
        }
      }
    }
}

/* The whole batch; im2col_t_range fills the columns of images [n0, n1) only (split across threads). */
EXPORT(im2col_t)
void im2col_t(const float* x, float* cols, int N, int H, int W, int CI, int OH, int OW, int KH, int KW,
              int SH, int SW, int padT, int padL) {
  im2col_t_range(x, cols, N, H, W, CI, OH, OW, KH, KW, SH, SW, padT, padL, 0, N);
}

/* out[n, y·SH, x·SW, :] = dy[n, y, x, :], zeros elsewhere (out is [N, OH·SH, OW·SW, C]). */
EXPORT(interleave)
void interleave(const float* dy, float* out, int N, int OH, int OW, int C, int SH, int SW) {
  long H = (long)OH * SH, W = (long)OW * SW;
  long total = (long)N * H * W * C;
  for (long i = 0; i < total; i++) out[i] = 0.f;
  for (int n = 0; n < N; n++)
    for (int y = 0; y < OH; y++)
      for (int x = 0; x < OW; x++) {
        const float* s = dy + (((long)n * OH + y) * OW + x) * C;
        float* d = out + (((long)n * H + (long)y * SH) * W + (long)x * SW) * C;
        for (int c = 0; c < C; c++) d[c] = s[c];
      }
}

/*
 * col2im for the input gradient: dx[n, iy, ix, :] = Σ dcols[(n,oy,ox), (kh,kw,:)] over the taps
 * that read (iy, ix). dcols rows are (kh, kw, ci) like the filter, so every tap adds a contiguous
 * run of CI floats. dx is fully overwritten.
 */
EXPORT(col2im)
void col2im(const float* dcols, float* dx, int N, int H, int W, int CI, int OH, int OW, int KH, int KW,
            int SH, int SW, int padT, int padL) {
  long total = (long)N * H * W * CI;
  for (long i = 0; i < total; i++) dx[i] = 0.f;
  long R = (long)KH * KW * CI;
  int CI4 = CI & ~3;
  for (int n = 0; n < N; n++)
    for (int oy = 0; oy < OH; oy++)
      for (int ox = 0; ox < OW; ox++) {
        const float* src = dcols + (((long)n * OH + oy) * OW + ox) * R;
        for (int kh = 0; kh < KH; kh++) {
          int iy = oy * SH + kh - padT;
          if (iy < 0 || iy >= H) continue;
          for (int kw = 0; kw < KW; kw++) {
            int ix = ox * SW + kw - padL;
            if (ix < 0 || ix >= W) continue;
            const float* s = src + (long)(kh * KW + kw) * CI;
            float* d = dx + (((long)n * H + iy) * W + ix) * CI;
            int c = 0;
            for (; c < CI4; c += 4) wasm_v128_store(d + c, wasm_f32x4_add(wasm_v128_load(d + c), wasm_v128_load(s + c)));
            for (; c < CI; c++) d[c] += s[c];
          }
        }
      }
}

/*
 * Direct filter gradient for layers with few input channels (the stem): no im2col, no GEMM
 * packing. For each tap and each (4 ci × 16 co) tile, 16 SIMD accumulators run over every output
 * pixel. XNNPACK's GEMM spends most of its time packing dy when K = N·OH·OW is huge and the
 * im2col side is tiny (27 rows for a 3-channel stem). Requires CO % 16 == 0. dw is overwritten.
 */
EXPORT(conv_filter_grad_direct)
void conv_filter_grad_direct(const float* x, const float* dy, float* dw, int N, int H, int W, int CI, int OH,
                             int OW, int CO, int KH, int KW, int SH, int SW, int padT, int padL) {
  for (int kh = 0; kh < KH; kh++)
    for (int kw = 0; kw < KW; kw++) {
      int lo = padL - kw > 0 ? (padL - kw + SW - 1) / SW : 0;
      int hi = (W - 1 + padL - kw) >= 0 ? (W - 1 + padL - kw) / SW + 1 : 0;
      if (hi > OW) hi = OW;
      for (int ci0 = 0; ci0 < CI; ci0 += 4) {
        int cb = CI - ci0 < 4 ? CI - ci0 : 4;
        for (int co0 = 0; co0 < CO; co0 += 16) {
          v128_t a00 = wasm_f32x4_splat(0.f), a01 = a00, a02 = a00, a03 = a00;
          v128_t a10 = a00, a11 = a00, a12 = a00, a13 = a00;
          v128_t a20 = a00, a21 = a00, a22 = a00, a23 = a00;
          v128_t a30 = a00, a31 = a00, a32 = a00, a33 = a00;
          for (int n = 0; n < N; n++)
            for (int oy = 0; oy < OH; oy++) {
              int iy = oy * SH + kh - padT;
              if (iy < 0 || iy >= H) continue;
              const float* xrow = x + (((long)n * H + iy) * W) * CI + ci0;
              const float* drow = dy + (((long)n * OH + oy) * OW) * CO + co0;
              for (int ox = lo; ox < hi; ox++) {
                const float* xp = xrow + (long)(ox * SW + kw - padL) * CI;
                const float* dp = drow + (long)ox * CO;
                v128_t d0 = wasm_v128_load(dp), d1 = wasm_v128_load(dp + 4);
                v128_t d2 = wasm_v128_load(dp + 8), d3 = wasm_v128_load(dp + 12);
                v128_t x0 = wasm_f32x4_splat(xp[0]);
                v128_t x1 = wasm_f32x4_splat(cb > 1 ? xp[1] : 0.f);
                v128_t x2 = wasm_f32x4_splat(cb > 2 ? xp[2] : 0.f);
                v128_t x3 = wasm_f32x4_splat(cb > 3 ? xp[3] : 0.f);
                a00 = wasm_f32x4_add(a00, wasm_f32x4_mul(x0, d0)); a01 = wasm_f32x4_add(a01, wasm_f32x4_mul(x0, d1));
                a02 = wasm_f32x4_add(a02, wasm_f32x4_mul(x0, d2)); a03 = wasm_f32x4_add(a03, wasm_f32x4_mul(x0, d3));
                a10 = wasm_f32x4_add(a10, wasm_f32x4_mul(x1, d0)); a11 = wasm_f32x4_add(a11, wasm_f32x4_mul(x1, d1));
                a12 = wasm_f32x4_add(a12, wasm_f32x4_mul(x1, d2)); a13 = wasm_f32x4_add(a13, wasm_f32x4_mul(x1, d3));
                a20 = wasm_f32x4_add(a20, wasm_f32x4_mul(x2, d0)); a21 = wasm_f32x4_add(a21, wasm_f32x4_mul(x2, d1));
                a22 = wasm_f32x4_add(a22, wasm_f32x4_mul(x2, d2)); a23 = wasm_f32x4_add(a23, wasm_f32x4_mul(x2, d3));
                a30 = wasm_f32x4_add(a30, wasm_f32x4_mul(x3, d0)); a31 = wasm_f32x4_add(a31, wasm_f32x4_mul(x3, d1));
                a32 = wasm_f32x4_add(a32, wasm_f32x4_mul(x3, d2)); a33 = wasm_f32x4_add(a33, wasm_f32x4_mul(x3, d3));
              }
            }
          float* o = dw + ((long)(kh * KW + kw) * CI + ci0) * CO + co0;
          wasm_v128_store(o, a00); wasm_v128_store(o + 4, a01); wasm_v128_store(o + 8, a02); wasm_v128_store(o + 12, a03);
          if (cb > 1) { o += CO; wasm_v128_store(o, a10); wasm_v128_store(o + 4, a11); wasm_v128_store(o + 8, a12); wasm_v128_store(o + 12, a13); }
          if (cb > 2) { o += CO; wasm_v128_store(o, a20); wasm_v128_store(o + 4, a21); wasm_v128_store(o + 8, a22); wasm_v128_store(o + 12, a23); }
          if (cb > 3) { o += CO; wasm_v128_store(o, a30); wasm_v128_store(o + 4, a31); wasm_v128_store(o + 8, a32); wasm_v128_store(o + 12, a33); }
        }
      }
    }
}
