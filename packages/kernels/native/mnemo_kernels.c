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

/* y = x·scale[c] + shift[c] (+ res, a residual of x's shape, unless 0), then max(·, 0) if relu. */
EXPORT(affine_rows)
void affine_rows(const float* x, float* y, int M, int C, const float* scale, const float* shift, int relu, const float* res) {
  int C4 = C & ~3;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = 0; r < M; r++) {
    const float* xr = x + (long)r * C;
    const float* rr = res ? res + (long)r * C : 0;
    float* yr = y + (long)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + c), wasm_v128_load(scale + c)), wasm_v128_load(shift + c));
      if (rr) v = wasm_f32x4_add(v, wasm_v128_load(rr + c));
      if (relu) v = wasm_f32x4_max(v, zero);
      wasm_v128_store(yr + c, v);
    }
    for (; c < C; c++) {
      float v = xr[c] * scale[c] + shift[c];
      if (rr) v += rr[c];
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

/* dx = A[c]·g + B[c]·x + K[c] with g as in bn_grad_stats; g itself is also stored to gout unless 0. */
EXPORT(bn_grad_apply)
void bn_grad_apply(const float* dy, const float* x, const float* y, float* dx, int M, int C, int relu,
                   const float* A, const float* B, const float* K, float* gout) {
  int C4 = C & ~3;
  v128_t zero = wasm_f32x4_splat(0.f);
  for (int r = 0; r < M; r++) {
    long o = (long)r * C;
    int c = 0;
    for (; c < C4; c += 4) {
      v128_t g = wasm_v128_load(dy + o + c);
      if (relu) g = wasm_v128_and(g, wasm_f32x4_gt(wasm_v128_load(y + o + c), zero));
      if (gout) wasm_v128_store(gout + o + c, g);
      v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(A + c), g), wasm_f32x4_mul(wasm_v128_load(B + c), wasm_v128_load(x + o + c)));
      wasm_v128_store(dx + o + c, wasm_f32x4_add(v, wasm_v128_load(K + c)));
    }
    for (; c < C; c++) {
      float g = (relu && !(y[o + c] > 0.f)) ? 0.f : dy[o + c];
      if (gout) gout[o + c] = g;
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

/* ------------------------------------------------------------------------------------------------
 * Winograd F(4×4, 3×3) for stride-1, pad-1 3×3 convolutions (Lavin & Gray, 2016).
 *
 * Each 4×4 output tile is Aᵀ[Σ_ci (G g Gᵀ) ⊙ (Bᵀ d B)]A over its 6×6 input tile d: 36 multiply-adds
 * per tile and channel pair instead of 144. The sums over input channels are 36 small GEMMs, one
 * per tile position ξ: M_ξ[tiles × CO] = V_ξ[tiles × CI] · U_ξ[CI × CO]. Tiles are processed in
 * blocks of T so the transformed inputs V and products M of a block stay in cache between the
 * input transform, the GEMMs and the output transform. All transforms run 4 channels per SIMD lane
 * group, which NHWC makes contiguous. Every tile's arithmetic is independent of how the tile range
 * is split, so the result is bit-identical for any thread count.
 * ---------------------------------------------------------------------------------------------- */

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define VADD wasm_f32x4_add
#define VSUB wasm_f32x4_sub
#define VMUL wasm_f32x4_mul
#define VS wasm_f32x4_splat
/* Constant-trip loops over tile positions must unroll fully so their arrays live in locals: this
 * module has no stack (see the top of the file). build.sh checks the output for stack use. */
#define UNROLL _Pragma("clang loop unroll(full)")

/*
 * Interpolation points 0, 1, −1, 2, −1/2 and ∞ rather than the usual 0, ±1, ±2, ∞: measured 2–3x
 * smaller float32 error (max |error| / max |y| about 2e-6 at 64 channels instead of 5e-6), in
 * line with Barabasz et al., "Error analysis and improving the accuracy of Winograd convolution
 * for DNNs" (2020). Matrices from the Toom–Cook construction, rows rescaled by powers of two.
 */

/* u = G g for one column of 3 taps (G is 6×3). */
ALWAYS_INLINE void f43_g(v128_t g0, v128_t g1, v128_t g2, v128_t* u) {
  v128_t s02 = VADD(g0, g2);
  u[0] = VMUL(g0, VS(0.5f));
  u[1] = VMUL(VADD(s02, g1), VS(1.f / 6.f));
  u[2] = VMUL(VSUB(s02, g1), VS(1.f / 6.f));
  u[3] = VADD(VADD(VMUL(g0, VS(1.f / 30.f)), VMUL(g1, VS(1.f / 15.f))), VMUL(g2, VS(2.f / 15.f)));
  u[4] = VADD(VSUB(VMUL(g0, VS(16.f / 15.f)), VMUL(g1, VS(8.f / 15.f))), VMUL(g2, VS(4.f / 15.f)));
  u[5] = VMUL(g2, VS(0.5f));
}

/* r = Bᵀ d for 6 values. */
ALWAYS_INLINE void f43_bt(v128_t d0, v128_t d1, v128_t d2, v128_t d3, v128_t d4, v128_t d5, v128_t* r) {
  v128_t two = VS(2.f), three = VS(3.f), five = VS(5.f);
  r[0] = VADD(VMUL(VSUB(VADD(d0, d4), VMUL(d2, two)), two), VMUL(VSUB(d1, d3), three));
  r[1] = VADD(VADD(VMUL(VSUB(d1, d4), two), VMUL(d2, five)), d3);
  r[2] = VSUB(VADD(VMUL(VADD(d1, d4), two), d2), VMUL(d3, five));
  r[3] = VADD(VSUB(d3, d1), VMUL(VSUB(d4, d2), two));
  r[4] = VSUB(VADD(VMUL(VSUB(d3, d1), two), d2), d4);
  r[5] = VADD(VMUL(VSUB(VADD(d1, d5), VMUL(d3, two)), two), VMUL(VSUB(d2, d4), three));
}

/* o = Aᵀ m for 6 values (Aᵀ is 4×6). */
ALWAYS_INLINE void f43_at(v128_t m0, v128_t m1, v128_t m2, v128_t m3, v128_t m4, v128_t m5, v128_t* o) {
  v128_t s12 = VADD(m1, m2), d12 = VSUB(m1, m2);
  o[0] = VADD(VADD(m0, s12), VADD(m3, m4));
  o[1] = VADD(d12, VSUB(VMUL(m3, VS(2.f)), VMUL(m4, VS(0.5f))));
  o[2] = VADD(s12, VADD(VMUL(m3, VS(4.f)), VMUL(m4, VS(0.25f))));
  o[3] = VADD(VADD(d12, VSUB(VMUL(m3, VS(8.f)), VMUL(m4, VS(0.125f)))), m5);
}

/*
 * U[ξ][co/8][ci][8] = (G g Gᵀ)[ξ] for the HWIO filter w[3][3][CI][CO]. Requires CO % 8 == 0.
 * The 8-column panels make the GEMM's reads of U contiguous.
 */
EXPORT(wino43_filter)
void wino43_filter(const float* w, float* U, int CI, int CO) {
  int CB = CO >> 3;
  for (int ci = 0; ci < CI; ci++)
    for (int co = 0; co < CO; co += 4) {
      v128_t t[6][3];
      UNROLL for (int kw = 0; kw < 3; kw++) {
        v128_t col[6];
        f43_g(wasm_v128_load(w + ((0 * 3 + kw) * CI + ci) * CO + co), wasm_v128_load(w + ((1 * 3 + kw) * CI + ci) * CO + co),
              wasm_v128_load(w + ((2 * 3 + kw) * CI + ci) * CO + co), col);
        UNROLL for (int i = 0; i < 6; i++) t[i][kw] = col[i];
      }
      UNROLL for (int i = 0; i < 6; i++) {
        v128_t row[6];
        f43_g(t[i][0], t[i][1], t[i][2], row);
        UNROLL for (int j = 0; j < 6; j++)
          wasm_v128_store(U + ((long)((i * 6 + j) * CB + (co >> 3)) * CI + ci) * 8 + (co & 7), row[j]);
      }
    }
}

/*
 * C[mr × 8] = A[mr × K] (row stride lda) · B[K × 8]; mr ≤ 4 is a constant after inlining. Four
 * rows, not six: with 12 accumulators V8 runs out of its 16 SIMD registers and spills (measured
 * 1.35x slower).
 */
ALWAYS_INLINE void wino_gemm_tile(int mr, const float* A, int lda, const float* B, int K, float* C, int ldc) {
  v128_t c0[4], c1[4];
  UNROLL for (int i = 0; i < 4; i++)
    if (i < mr) c0[i] = c1[i] = VS(0.f);
  for (int k = 0; k < K; k++) {
    v128_t b0 = wasm_v128_load(B + k * 8), b1 = wasm_v128_load(B + k * 8 + 4);
    UNROLL for (int i = 0; i < 4; i++)
      if (i < mr) {
        v128_t a = wasm_v128_load32_splat(A + (long)i * lda + k);
        c0[i] = VADD(c0[i], VMUL(a, b0));
        c1[i] = VADD(c1[i], VMUL(a, b1));
      }
  }
  UNROLL for (int i = 0; i < 4; i++)
    if (i < mr) {
      wasm_v128_store(C + (long)i * ldc, c0[i]);
      wasm_v128_store(C + (long)i * ldc + 4, c1[i]);
    }
}

/* M_ξ[nt × CO] = V_ξ[nt × CI] · U_ξ for all 36 ξ (V and M rows of block stride T). */
static void wino_gemms(const float* V, const float* U, float* M, int nt, int T, int CI, int CO) {
  int CB = CO >> 3;
  for (int xi = 0; xi < 36; xi++) {
    const float* Vx = V + (long)xi * T * CI;
    float* Mx = M + (long)xi * T * CO;
    for (int cb = 0; cb < CB; cb++) {
      const float* B = U + ((long)xi * CB + cb) * CI * 8;
      int t = 0;
      for (; t + 4 <= nt; t += 4) wino_gemm_tile(4, Vx + (long)t * CI, CI, B, CI, Mx + (long)t * CO + cb * 8, CO);
      switch (nt - t) {
        case 3: wino_gemm_tile(3, Vx + (long)t * CI, CI, B, CI, Mx + (long)t * CO + cb * 8, CO); break;
        case 2: wino_gemm_tile(2, Vx + (long)t * CI, CI, B, CI, Mx + (long)t * CO + cb * 8, CO); break;
        case 1: wino_gemm_tile(1, Vx + (long)t * CI, CI, B, CI, Mx + (long)t * CO + cb * 8, CO); break;
        default: break;
      }
    }
  }
}

/*
 * Bᵀ d B of one tile's 6×6 window into V (position ξ at Vt + ξ·vstride), 4 channels at a time.
 * Bit i of rows / j of cols says that window row / column lies inside the image (zeros elsewhere).
 * `full` is a constant after inlining: interior tiles skip the masks.
 */
ALWAYS_INLINE void wino_in_tile(const float* base, long rs, int CI, int rows, int cols, int full, float* Vt, long vstride) {
  v128_t zero = VS(0.f);
  for (int ci = 0; ci < CI; ci += 4) {
    v128_t t[6][6];
    UNROLL for (int j = 0; j < 6; j++) {
      v128_t d[6], col[6];
      UNROLL for (int i = 0; i < 6; i++)
        d[i] = (full || ((rows >> i) & (cols >> j) & 1)) ? wasm_v128_load(base + i * rs + (long)j * CI + ci) : zero;
      f43_bt(d[0], d[1], d[2], d[3], d[4], d[5], col);
      UNROLL for (int i = 0; i < 6; i++) t[i][j] = col[i];
    }
    UNROLL for (int i = 0; i < 6; i++) {
      v128_t row[6];
      f43_bt(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], row);
      UNROLL for (int j = 0; j < 6; j++) wasm_v128_store(Vt + (i * 6 + j) * vstride + ci, row[j]);
    }
  }
}

/* Window masks of the tile whose top-left input pixel is (iy0, ix0). */
ALWAYS_INLINE void wino_masks(int iy0, int ix0, int H, int W, int* rows, int* cols) {
  int r = 0, c = 0;
  UNROLL for (int i = 0; i < 6; i++) {
    r |= (iy0 + i >= 0 && iy0 + i < H) << i;
    c |= (ix0 + i >= 0 && ix0 + i < W) << i;
  }
  *rows = r;
  *cols = c;
}

/* Bᵀ d B of tile (n, ty, tx) of x [N,H,W,CI] into V, masks and interior fast path included. */
ALWAYS_INLINE void wino_input_tile(const float* x, int H, int W, int CI, int n, int ty, int tx, float* Vt, long vstride) {
  int iy0 = ty * 4 - 1, ix0 = tx * 4 - 1, rows, cols;
  wino_masks(iy0, ix0, H, W, &rows, &cols);
  const float* base = x + (((long)n * H + iy0) * W + ix0) * CI;
  if (rows == 63 && cols == 63) wino_in_tile(base, (long)W * CI, CI, rows, cols, 1, Vt, vstride);
  else wino_in_tile(base, (long)W * CI, CI, rows, cols, 0, Vt, vstride);
}

/*
 * y tile = act(Aᵀ M A + bias + res) for the oh × ow pixels that exist (res: the same tile of a
 * residual shaped like y, or 0); `full` (4×4) and relu are constants after inlining.
 */
ALWAYS_INLINE void wino_out_tile(const float* Mt, long mstride, float* dst, const float* res, long W, int CO,
                                 const float* bias, int relu, int oh, int ow, int full) {
  v128_t zero = VS(0.f);
  for (int co = 0; co < CO; co += 4) {
    v128_t s[4][6];
    UNROLL for (int j = 0; j < 6; j++) {
      v128_t col[4];
      const float* m = Mt + co + j * mstride;
      long step = 6 * mstride;
      f43_at(wasm_v128_load(m), wasm_v128_load(m + step), wasm_v128_load(m + 2 * step), wasm_v128_load(m + 3 * step),
             wasm_v128_load(m + 4 * step), wasm_v128_load(m + 5 * step), col);
      UNROLL for (int i = 0; i < 4; i++) s[i][j] = col[i];
    }
    v128_t b = bias ? wasm_v128_load(bias + co) : zero;
    UNROLL for (int i = 0; i < 4; i++) {
      v128_t o[4];
      f43_at(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], o);
      if (!full && i >= oh) continue;
      UNROLL for (int k = 0; k < 4; k++) {
        if (!full && k >= ow) continue;
        long at = ((long)i * W + k) * CO + co;
        v128_t v = VADD(o[k], b);
        if (res) v = VADD(v, wasm_v128_load(res + at));
        if (relu) v = wasm_f32x4_max(v, zero);
        wasm_v128_store(dst + at, v);
      }
    }
  }
}

/*
 * y = act(conv3×3(x, w; stride 1, pad 1) + bias + res) for the tiles [t0, t1) of the batch's tile grid
 * (tile g = (n, ty, tx) row-major, ⌈H/4⌉·⌈W/4⌉ tiles per image), given U from wino43_filter.
 * x [N,H,W,CI], y and res [N,H,W,CO]; CI % 4 == 0, CO % 8 == 0; bias and res may be 0 (none).
 * scratch holds 36·T·(CI + CO) floats for this caller alone.
 */
EXPORT(wino43_conv)
void wino43_conv(const float* x, const float* U, const float* bias, const float* res, float* y, int N, int H, int W,
                 int CI, int CO, int relu, int t0, int t1, int T, float* scratch) {
  (void)N;
  int TH = (H + 3) >> 2, TW = (W + 3) >> 2, per = TH * TW;
  float* V = scratch;
  float* M = scratch + (long)36 * T * CI;
  for (int b0 = t0; b0 < t1; b0 += T) {
    int nt = t1 - b0 < T ? t1 - b0 : T;
    for (int tl = 0; tl < nt; tl++) {
      int g = b0 + tl, n = g / per, r = g - n * per, ty = r / TW, tx = r - ty * TW;
      wino_input_tile(x, H, W, CI, n, ty, tx, V + (long)tl * CI, (long)T * CI);
    }
    wino_gemms(V, U, M, nt, T, CI, CO);
    for (int tl = 0; tl < nt; tl++) {
      int g = b0 + tl, n = g / per, r = g - n * per, ty = r / TW, tx = r - ty * TW;
      int oh = H - ty * 4 < 4 ? H - ty * 4 : 4, ow = W - tx * 4 < 4 ? W - tx * 4 : 4;
      long tileAt = (((long)n * H + ty * 4) * W + tx * 4) * CO;
      float* dst = y + tileAt;
      const float* rt = res ? res + tileAt : 0;
      const float* Mt = M + (long)tl * CO;
      long ms = (long)T * CO;
      int full = oh == 4 && ow == 4;
      if (full && relu) wino_out_tile(Mt, ms, dst, rt, W, CO, bias, 1, 4, 4, 1);
      else if (full) wino_out_tile(Mt, ms, dst, rt, W, CO, bias, 0, 4, 4, 1);
      else wino_out_tile(Mt, ms, dst, rt, W, CO, bias, relu, oh, ow, 0);
    }
  }
}

/*
 * Filter gradient by the same algorithm, transposed (Winograd F(3×3, 4×4)): differentiating the
 * forward tile formula gives dW = Gᵀ[Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ x B)]G, with A the 6×4 matrix whose
 * transpose is the forward's output transform. The sum over tiles is 36 GEMMs with the tiles as the
 * reduction dimension: M_ξ[CI × CO] += V_ξᵀ · D_ξ.
 */

/* r = A d for 4 values (A is 6×4, the forward's Aᵀ transposed). */
ALWAYS_INLINE void f43_a(v128_t d0, v128_t d1, v128_t d2, v128_t d3, v128_t* r) {
  v128_t e = VADD(d0, d2), o = VADD(d1, d3);
  r[0] = d0;
  r[1] = VADD(e, o);
  r[2] = VSUB(e, o);
  r[3] = VADD(VADD(d0, VMUL(d1, VS(2.f))), VADD(VMUL(d2, VS(4.f)), VMUL(d3, VS(8.f))));
  r[4] = VADD(VSUB(d0, VMUL(d1, VS(0.5f))), VSUB(VMUL(d2, VS(0.25f)), VMUL(d3, VS(0.125f))));
  r[5] = d3;
}

/* r = Gᵀ m for 6 values (Gᵀ is 3×6). */
ALWAYS_INLINE void f43_gt(v128_t m0, v128_t m1, v128_t m2, v128_t m3, v128_t m4, v128_t m5, v128_t* r) {
  v128_t s12 = VMUL(VADD(m1, m2), VS(1.f / 6.f)), d12 = VMUL(VSUB(m1, m2), VS(1.f / 6.f));
  r[0] = VADD(VADD(VMUL(m0, VS(0.5f)), s12), VADD(VMUL(m3, VS(1.f / 30.f)), VMUL(m4, VS(16.f / 15.f))));
  r[1] = VADD(d12, VSUB(VMUL(m3, VS(1.f / 15.f)), VMUL(m4, VS(8.f / 15.f))));
  r[2] = VADD(VADD(s12, VMUL(m5, VS(0.5f))), VADD(VMUL(m3, VS(2.f / 15.f)), VMUL(m4, VS(4.f / 15.f))));
}

/*
 * C[4 × 8] += A[K × 4]ᵀ (row stride lda) · B[K × 8] (row stride ldb). The block's sum starts from
 * zero and is added to C once: two-level summation, so the error does not grow with the batch.
 */
ALWAYS_INLINE void wino_gemm_at(const float* A, int lda, const float* B, int ldb, int K, float* C, int ldc) {
  v128_t c0[4], c1[4];
  UNROLL for (int i = 0; i < 4; i++) c0[i] = c1[i] = VS(0.f);
  for (int k = 0; k < K; k++) {
    v128_t b0 = wasm_v128_load(B + (long)k * ldb), b1 = wasm_v128_load(B + (long)k * ldb + 4);
    UNROLL for (int i = 0; i < 4; i++) {
      v128_t a = wasm_v128_load32_splat(A + (long)k * lda + i);
      c0[i] = VADD(c0[i], VMUL(a, b0));
      c1[i] = VADD(c1[i], VMUL(a, b1));
    }
  }
  UNROLL for (int i = 0; i < 4; i++) {
    wasm_v128_store(C + (long)i * ldc, VADD(wasm_v128_load(C + (long)i * ldc), c0[i]));
    wasm_v128_store(C + (long)i * ldc + 4, VADD(wasm_v128_load(C + (long)i * ldc + 4), c1[i]));
  }
}

/* A dy Aᵀ of one tile's 4×4 output gradient into D (position ξ at Dt + ξ·dstride); masks as wino_in_tile. */
ALWAYS_INLINE void wino_dy_tile(const float* gb, long grs, int CO, int orows, int ocols, int full, float* Dt, long dstride) {
  v128_t zero = VS(0.f);
  for (int co = 0; co < CO; co += 4) {
    v128_t t[6][4];
    UNROLL for (int j = 0; j < 4; j++) {
      v128_t d[4], col[6];
      UNROLL for (int i = 0; i < 4; i++)
        d[i] = (full || ((orows >> i) & (ocols >> j) & 1)) ? wasm_v128_load(gb + i * grs + (long)j * CO + co) : zero;
      f43_a(d[0], d[1], d[2], d[3], col);
      UNROLL for (int i = 0; i < 6; i++) t[i][j] = col[i];
    }
    UNROLL for (int i = 0; i < 6; i++) {
      v128_t row[6];
      f43_a(t[i][0], t[i][1], t[i][2], t[i][3], row);
      UNROLL for (int j = 0; j < 6; j++) wasm_v128_store(Dt + (i * 6 + j) * dstride + co, row[j]);
    }
  }
}

/*
 * Macc[ξ][CI][CO] += Σ over tiles [t0, t1) of V_ξ[t]ᵀ D_ξ[t] for x [N,H,W,CI] and dy [N,H,W,CO]
 * (stride 1, pad 1). Macc is this caller's own accumulator (zeroed by the caller); CI % 4 == 0,
 * CO % 8 == 0; scratch holds 36·T·(CI + CO) floats.
 */
EXPORT(wino43_filter_grad)
void wino43_filter_grad(const float* x, const float* dy, float* Macc, int N, int H, int W, int CI, int CO, int t0,
                        int t1, int T, float* scratch) {
  (void)N;
  int TH = (H + 3) >> 2, TW = (W + 3) >> 2, per = TH * TW;
  float* V = scratch;
  float* D = scratch + (long)36 * T * CI;
  for (int b0 = t0; b0 < t1; b0 += T) {
    int nt = t1 - b0 < T ? t1 - b0 : T;
    for (int tl = 0; tl < nt; tl++) {
      int g = b0 + tl, n = g / per, r = g - n * per, ty = r / TW, tx = r - ty * TW;
      wino_input_tile(x, H, W, CI, n, ty, tx, V + (long)tl * CI, (long)T * CI);
      /* Output pixels of this tile that exist: bits of orows / ocols (the rest of dy is zero). */
      int orows = 0, ocols = 0;
      UNROLL for (int i = 0; i < 4; i++) {
        orows |= (ty * 4 + i < H) << i;
        ocols |= (tx * 4 + i < W) << i;
      }
      const float* gb = dy + (((long)n * H + ty * 4) * W + tx * 4) * CO;
      if (orows == 15 && ocols == 15) wino_dy_tile(gb, (long)W * CO, CO, orows, ocols, 1, D + (long)tl * CO, (long)T * CO);
      else wino_dy_tile(gb, (long)W * CO, CO, orows, ocols, 0, D + (long)tl * CO, (long)T * CO);
    }
    for (int xi = 0; xi < 36; xi++) {
      const float* Vx = V + (long)xi * T * CI;
      const float* Dx = D + (long)xi * T * CO;
      float* Mx = Macc + (long)xi * CI * CO;
      for (int ci = 0; ci < CI; ci += 4)
        for (int co = 0; co < CO; co += 8) wino_gemm_at(Vx + ci, CI, Dx + co, CO, nt, Mx + (long)ci * CO + co, CO);
    }
  }
}

/* dw[3][3][CI][CO] = Gᵀ (M0 + M1)[ξ] G: the two halves' accumulators, always added in this order. */
EXPORT(wino43_filter_grad_out)
void wino43_filter_grad_out(const float* M0, const float* M1, float* dw, int CI, int CO) {
  long S = (long)CI * CO;
  for (long o = 0; o < S; o += 4) {
    v128_t t[3][6];
    UNROLL for (int j = 0; j < 6; j++) {
      v128_t m[6], col[3];
      UNROLL for (int i = 0; i < 6; i++)
        m[i] = VADD(wasm_v128_load(M0 + (i * 6 + j) * S + o), wasm_v128_load(M1 + (i * 6 + j) * S + o));
      f43_gt(m[0], m[1], m[2], m[3], m[4], m[5], col);
      UNROLL for (int i = 0; i < 3; i++) t[i][j] = col[i];
    }
    UNROLL for (int i = 0; i < 3; i++) {
      v128_t r[3];
      f43_gt(t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], r);
      UNROLL for (int j = 0; j < 3; j++) wasm_v128_store(dw + (i * 3 + j) * S + o, r[j]);
    }
  }
}
