;; SIMD training kernels, run on the memory of tfjs-backend-wasm (imported as
;; env.memory; every pointer is a byte offset into it): the two gradients of
;; an NHWC depthwise convolution, the filter gradient of an NHWC convolution
;; (dense: tiles of 4 x 8 or, for few input channels, 1 x 32 channels; or over
;; dy's nonzero entries), a plain matrix product (the input gradient of a 1x1
;; convolution; with the product skipping zeros and the col2im scatter, that
;; of any convolution), max pooling's gradient, ReLU6's gradient,
;; BatchNormalization's gradient and per-channel sums (its means in training,
;; bias gradients). All vectorize over the channel axis (the innermost axis
;; of NHWC data), four float32 lanes at a time.
;;
;; Geometry is resolved by the caller (src/kernels/wasm/training_simd.ts) into
;; small i32 tables of byte offsets, so that the kernels never test a bound:
;;
;; - A "tap" (filter gradients) is a rectangle of output pixels that one
;;   filter position (kh, kw) reads entirely inside the input: 5 x i32
;;   (xOff, dyOff, rows, cols, accOff). Pixel (r, k) of it reads
;;   x + xOff + r * xRow + k * xPix and dy + dyOff + r * dyRow + k * dyPix.
;;   Its sums go, in float64, to acc + accOff: each tap's rectangle is summed
;;   in float32 registers and then added to float64 accumulators, so the
;;   caller bounds the float32 sums' length by the size of its rectangles.
;; - A row table (depthwise input gradient) holds, per input row ih (and
;;   per input column iw in a second table), the count of (dyOff, fOff) pairs
;;   of the output rows (columns) and filter rows (columns) that read it,
;;   `stride` bytes per entry.
;;
;; Channel counts that are not a multiple of 4 (at least 4): the last quad
;; starts at C - 4 and overlaps the one before it; the filter gradients add
;; only its new lanes, the input gradient rewrites the overlapping lanes with
;; the same values. The caller handles fewer than 4 channels in JavaScript.
;;
;; Depthwise channel multiplier M > 1: output channel c * M + m. The kernels
;; run over input channels c, one m at a time, gathering dy lanes 4M bytes
;; apart; dwInput takes the filter transposed to [kh, kw, m, c], and dwFilter
;; accumulates its sums as [tap, m, c].
;;
;; The source of training_module.ts: `npm run build:wasm` compiles this file.
(module
  (import "env" "memory" (memory 0))

  ;; Adds lanes first .. 3 of $v to the float64 values at dst + 8 * lane ($tmp: 16 bytes of scratch).
  (func $flush (param $v v128) (param $dst i32) (param $first i32) (param $tmp i32)
    (local $j i32) (local $p i32)
    (if (i32.eqz (local.get $first))
      (then
        (v128.store (local.get $dst)
          (f64x2.add (v128.load (local.get $dst)) (f64x2.promote_low_f32x4 (local.get $v))))
        (v128.store offset=16 (local.get $dst)
          (f64x2.add (v128.load offset=16 (local.get $dst))
            (f64x2.promote_low_f32x4
              (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
        (return)))
    (v128.store (local.get $tmp) (local.get $v))
    (local.set $j (local.get $first))
    (block $done
      (loop $lane
        (br_if $done (i32.ge_u (local.get $j) (i32.const 4)))
        (local.set $p (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 3))))
        (f64.store (local.get $p)
          (f64.add (f64.load (local.get $p))
            (f64.promote_f32 (f32.load (i32.add (local.get $tmp) (i32.shl (local.get $j) (i32.const 2)))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $lane))))

  ;; Four float32 at p, or (gs != 4) at p, p + gs, p + 2 gs, p + 3 gs.
  (func $gather (param $p i32) (param $gs i32) (result v128)
    (local $v v128)
    (if (i32.eq (local.get $gs) (i32.const 4)) (then (return (v128.load (local.get $p)))))
    (local.set $v (v128.load32_zero (local.get $p)))
    (local.set $p (i32.add (local.get $p) (local.get $gs)))
    (local.set $v (v128.load32_lane 1 (local.get $p) (local.get $v)))
    (local.set $p (i32.add (local.get $p) (local.get $gs)))
    (local.set $v (v128.load32_lane 2 (local.get $p) (local.get $v)))
    (local.set $p (i32.add (local.get $p) (local.get $gs)))
    (v128.load32_lane 3 (local.get $p) (local.get $v)))

  ;; The depthwise filter gradient over the taps: for each tap, input channel c (C >= 4) and m < M,
  ;; acc[accOff + 8 * (m * C + c)] += sum over the tap's pixels of x[c] * dy[c * M + m].
