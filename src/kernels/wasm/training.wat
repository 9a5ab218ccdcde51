;; SIMD training kernels, run on the memory of tfjs-backend-wasm (imported as
;; env.memory; every pointer is a byte offset into it): the two gradients of
;; an NHWC depthwise convolution, the filter gradient of an NHWC convolution,
;; a plain matrix product (the input gradient of a 1x1 convolution),
;; ReLU6's gradient, BatchNormalization's gradient and per-channel sums (its
;; means in training, bias gradients). All vectorize over the channel axis
;; (the innermost axis of NHWC data), four float32 lanes at a time.
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
  (func (export "dwFilter") (param $x i32) (param $dy i32) (param $C i32) (param $M i32)
      (param $xPix i32) (param $xRow i32) (param $dyPix i32) (param $dyRow i32)
      (param $taps i32) (param $nTaps i32) (param $acc i32) (param $tmp i32)
    (local $c i32) (local $m i32) (local $t i32) (local $e i32) (local $r i32) (local $k i32)
    (local $rows i32) (local $cols i32) (local $xp i32) (local $dp i32) (local $xr i32) (local $dr i32)
    (local $dst i32) (local $ds i32) (local $first i32) (local $gs i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    ;; M = 1: blocks of 16 channels, four accumulators.
    (if (i32.eq (local.get $M) (i32.const 1))
      (then
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $C)))
            (local.set $t (i32.const 0))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $nTaps)))
                (local.set $e (i32.add (local.get $taps) (i32.mul (local.get $t) (i32.const 20))))
                (local.set $xr (i32.add (i32.add (local.get $x) (i32.load (local.get $e))) (i32.shl (local.get $c) (i32.const 2))))
                (local.set $dr (i32.add (i32.add (local.get $dy) (i32.load offset=4 (local.get $e))) (i32.shl (local.get $c) (i32.const 2))))
                (local.set $rows (i32.load offset=8 (local.get $e)))
                (local.set $cols (i32.load offset=12 (local.get $e)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $a1 (v128.const i32x4 0 0 0 0))
                (local.set $a2 (v128.const i32x4 0 0 0 0))
                (local.set $a3 (v128.const i32x4 0 0 0 0))
                (local.set $r (local.get $rows))
                (block $rowsDone
                  (loop $rowLoop
                    (br_if $rowsDone (i32.eqz (local.get $r)))
                    (local.set $xp (local.get $xr))
                    (local.set $dp (local.get $dr))
                    (local.set $k (local.get $cols))
                    (block $colsDone
                      (loop $colLoop
                        (br_if $colsDone (i32.eqz (local.get $k)))
                        (local.set $a0 (f32x4.add (local.get $a0)
                          (f32x4.mul (v128.load (local.get $xp)) (v128.load (local.get $dp)))))
                        (local.set $a1 (f32x4.add (local.get $a1)
                          (f32x4.mul (v128.load offset=16 (local.get $xp)) (v128.load offset=16 (local.get $dp)))))
                        (local.set $a2 (f32x4.add (local.get $a2)
                          (f32x4.mul (v128.load offset=32 (local.get $xp)) (v128.load offset=32 (local.get $dp)))))
                        (local.set $a3 (f32x4.add (local.get $a3)
                          (f32x4.mul (v128.load offset=48 (local.get $xp)) (v128.load offset=48 (local.get $dp)))))
                        (local.set $xp (i32.add (local.get $xp) (local.get $xPix)))
                        (local.set $dp (i32.add (local.get $dp) (local.get $dyPix)))
                        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                        (br $colLoop)))
                    (local.set $xr (i32.add (local.get $xr) (local.get $xRow)))
                    (local.set $dr (i32.add (local.get $dr) (local.get $dyRow)))
                    (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                    (br $rowLoop)))
                (local.set $dst (i32.add (i32.add (local.get $acc) (i32.load offset=16 (local.get $e)))
                  (i32.shl (local.get $c) (i32.const 3))))
                (call $flush (local.get $a0) (local.get $dst) (i32.const 0) (local.get $tmp))
                (call $flush (local.get $a1) (i32.add (local.get $dst) (i32.const 32)) (i32.const 0) (local.get $tmp))
                (call $flush (local.get $a2) (i32.add (local.get $dst) (i32.const 64)) (i32.const 0) (local.get $tmp))
                (call $flush (local.get $a3) (i32.add (local.get $dst) (i32.const 96)) (i32.const 0) (local.get $tmp))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $tapLoop)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $blocks)))))
    ;; The remaining channels, a quad at a time (the last one overlapping), each m in turn.
    (local.set $gs (i32.shl (local.get $M) (i32.const 2)))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.ge_u (local.get $c) (local.get $C)))
        (local.set $ds (select (local.get $c) (i32.sub (local.get $C) (i32.const 4))
          (i32.le_u (i32.add (local.get $c) (i32.const 4)) (local.get $C))))
        (local.set $first (i32.sub (local.get $c) (local.get $ds)))
        (local.set $m (i32.const 0))
        (block $mDone
          (loop $mLoop
            (br_if $mDone (i32.ge_u (local.get $m) (local.get $M)))
            (local.set $t (i32.const 0))
            (block $tapsDone
              (loop $tapLoop
                (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $nTaps)))
                (local.set $e (i32.add (local.get $taps) (i32.mul (local.get $t) (i32.const 20))))
                (local.set $xr (i32.add (i32.add (local.get $x) (i32.load (local.get $e))) (i32.shl (local.get $ds) (i32.const 2))))
                (local.set $dr (i32.add (i32.add (local.get $dy) (i32.load offset=4 (local.get $e)))
                  (i32.shl (i32.add (i32.mul (local.get $ds) (local.get $M)) (local.get $m)) (i32.const 2))))
                (local.set $rows (i32.load offset=8 (local.get $e)))
                (local.set $cols (i32.load offset=12 (local.get $e)))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $r (local.get $rows))
                (block $rowsDone
                  (loop $rowLoop
                    (br_if $rowsDone (i32.eqz (local.get $r)))
                    (local.set $xp (local.get $xr))
                    (local.set $dp (local.get $dr))
                    (local.set $k (local.get $cols))
                    (block $colsDone
                      (loop $colLoop
                        (br_if $colsDone (i32.eqz (local.get $k)))
                        (local.set $a0 (f32x4.add (local.get $a0)
                          (f32x4.mul (v128.load (local.get $xp)) (call $gather (local.get $dp) (local.get $gs)))))
                        (local.set $xp (i32.add (local.get $xp) (local.get $xPix)))
                        (local.set $dp (i32.add (local.get $dp) (local.get $dyPix)))
                        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                        (br $colLoop)))
                    (local.set $xr (i32.add (local.get $xr) (local.get $xRow)))
                    (local.set $dr (i32.add (local.get $dr) (local.get $dyRow)))
                    (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                    (br $rowLoop)))
                (local.set $dst (i32.add (i32.add (local.get $acc) (i32.load offset=16 (local.get $e)))
                  (i32.shl (i32.add (i32.mul (local.get $m) (local.get $C)) (local.get $ds)) (i32.const 3))))
                (call $flush (local.get $a0) (local.get $dst) (local.get $first) (local.get $tmp))
                (local.set $t (i32.add (local.get $t) (i32.const 1)))
                (br $tapLoop)))
            (local.set $m (i32.add (local.get $m) (i32.const 1)))
            (br $mLoop)))
        (local.set $c (i32.add (local.get $ds) (i32.const 4)))
        (br $quads))))

  ;; The depthwise input gradient of one image: for each input pixel (ih, iw) and channel c (C >= 4),
  ;; dx[(ih * inW + iw) * C + c] = sum over m and over the (row, column) pairs of the two tables
  ;; of dy[hd + wd + 4 * (c * M + m)] * f[hf + wf + 4 * (m * C + c)] (f as [kh, kw, m, c]).
  (func (export "dwInput") (param $dy i32) (param $f i32) (param $dx i32) (param $C i32) (param $M i32)
      (param $inH i32) (param $inW i32) (param $hTab i32) (param $wTab i32) (param $stride i32)
    (local $ih i32) (local $iw i32) (local $c i32) (local $ds i32) (local $m i32) (local $gs i32)
    (local $he i32) (local $we i32) (local $nh i32) (local $nw i32) (local $i i32) (local $j i32)
    (local $hd i32) (local $hf i32) (local $hp i32) (local $wp i32) (local $d i32) (local $fa i32) (local $out i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local.set $gs (i32.shl (local.get $M) (i32.const 2)))
    (local.set $out (local.get $dx))
    (block $ihDone
      (loop $ihLoop
        (br_if $ihDone (i32.ge_u (local.get $ih) (local.get $inH)))
        (local.set $he (i32.add (local.get $hTab) (i32.mul (local.get $ih) (local.get $stride))))
        (local.set $nh (i32.load (local.get $he)))
        (local.set $iw (i32.const 0))
        (block $iwDone
          (loop $iwLoop
            (br_if $iwDone (i32.ge_u (local.get $iw) (local.get $inW)))
            (local.set $we (i32.add (local.get $wTab) (i32.mul (local.get $iw) (local.get $stride))))
            (local.set $nw (i32.load (local.get $we)))
            (local.set $c (i32.const 0))
            (if (i32.eq (local.get $M) (i32.const 1))
              (then
                (block $blocksDone
                  (loop $blocks
                    (br_if $blocksDone (i32.gt_u (i32.add (local.get $c) (i32.const 16)) (local.get $C)))
                    (local.set $a0 (v128.const i32x4 0 0 0 0))
                    (local.set $a1 (v128.const i32x4 0 0 0 0))
                    (local.set $a2 (v128.const i32x4 0 0 0 0))
                    (local.set $a3 (v128.const i32x4 0 0 0 0))
                    (local.set $hp (i32.add (local.get $he) (i32.const 4)))
                    (local.set $i (local.get $nh))
                    (block $hDone
                      (loop $hLoop
                        (br_if $hDone (i32.eqz (local.get $i)))
                        (local.set $hd (i32.add (i32.add (local.get $dy) (i32.load (local.get $hp))) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $hf (i32.add (i32.add (local.get $f) (i32.load offset=4 (local.get $hp))) (i32.shl (local.get $c) (i32.const 2))))
                        (local.set $wp (i32.add (local.get $we) (i32.const 4)))
                        (local.set $j (local.get $nw))
                        (block $wDone
                          (loop $wLoop
                            (br_if $wDone (i32.eqz (local.get $j)))
                            (local.set $d (i32.add (local.get $hd) (i32.load (local.get $wp))))
                            (local.set $fa (i32.add (local.get $hf) (i32.load offset=4 (local.get $wp))))
                            (local.set $a0 (f32x4.add (local.get $a0)
                              (f32x4.mul (v128.load (local.get $d)) (v128.load (local.get $fa)))))
                            (local.set $a1 (f32x4.add (local.get $a1)
                              (f32x4.mul (v128.load offset=16 (local.get $d)) (v128.load offset=16 (local.get $fa)))))
                            (local.set $a2 (f32x4.add (local.get $a2)
                              (f32x4.mul (v128.load offset=32 (local.get $d)) (v128.load offset=32 (local.get $fa)))))
                            (local.set $a3 (f32x4.add (local.get $a3)
                              (f32x4.mul (v128.load offset=48 (local.get $d)) (v128.load offset=48 (local.get $fa)))))
                            (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
                            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                            (br $wLoop)))
                        (local.set $hp (i32.add (local.get $hp) (i32.const 8)))
                        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                        (br $hLoop)))
                    (local.set $d (i32.add (local.get $out) (i32.shl (local.get $c) (i32.const 2))))
                    (v128.store (local.get $d) (local.get $a0))
                    (v128.store offset=16 (local.get $d) (local.get $a1))
                    (v128.store offset=32 (local.get $d) (local.get $a2))
                    (v128.store offset=48 (local.get $d) (local.get $a3))
                    (local.set $c (i32.add (local.get $c) (i32.const 16)))
                    (br $blocks)))))
            (block $quadsDone
              (loop $quads
                (br_if $quadsDone (i32.ge_u (local.get $c) (local.get $C)))
                (local.set $ds (select (local.get $c) (i32.sub (local.get $C) (i32.const 4))
                  (i32.le_u (i32.add (local.get $c) (i32.const 4)) (local.get $C))))
                (local.set $a0 (v128.const i32x4 0 0 0 0))
                (local.set $m (i32.const 0))
                (block $mDone
                  (loop $mLoop
                    (br_if $mDone (i32.ge_u (local.get $m) (local.get $M)))
                    (local.set $hp (i32.add (local.get $he) (i32.const 4)))
                    (local.set $i (local.get $nh))
                    (block $hDone
                      (loop $hLoop
                        (br_if $hDone (i32.eqz (local.get $i)))
                        (local.set $hd (i32.add (i32.add (local.get $dy) (i32.load (local.get $hp)))
                          (i32.shl (i32.add (i32.mul (local.get $ds) (local.get $M)) (local.get $m)) (i32.const 2))))
                        (local.set $hf (i32.add (i32.add (local.get $f) (i32.load offset=4 (local.get $hp)))
                          (i32.shl (i32.add (i32.mul (local.get $m) (local.get $C)) (local.get $ds)) (i32.const 2))))
                        (local.set $wp (i32.add (local.get $we) (i32.const 4)))
                        (local.set $j (local.get $nw))
                        (block $wDone
                          (loop $wLoop
                            (br_if $wDone (i32.eqz (local.get $j)))
                            (local.set $a0 (f32x4.add (local.get $a0)
                              (f32x4.mul (call $gather (i32.add (local.get $hd) (i32.load (local.get $wp))) (local.get $gs))
                                (v128.load (i32.add (local.get $hf) (i32.load offset=4 (local.get $wp)))))))
                            (local.set $wp (i32.add (local.get $wp) (i32.const 8)))
                            (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                            (br $wLoop)))
                        (local.set $hp (i32.add (local.get $hp) (i32.const 8)))
                        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
                        (br $hLoop)))
                    (local.set $m (i32.add (local.get $m) (i32.const 1)))
                    (br $mLoop)))
                (v128.store (i32.add (local.get $out) (i32.shl (local.get $ds) (i32.const 2))) (local.get $a0))
                (local.set $c (i32.add (local.get $ds) (i32.const 4)))
                (br $quads)))
            (local.set $out (i32.add (local.get $out) (i32.shl (local.get $C) (i32.const 2))))
            (local.set $iw (i32.add (local.get $iw) (i32.const 1)))
            (br $iwLoop)))
        (local.set $ih (i32.add (local.get $ih) (i32.const 1)))
        (br $ihLoop))))

  ;; The convolution filter gradient over the taps: for each tap, ci < CI and co < CO (CO >= 4),
  ;; acc[accOff + 8 * (ci * CO + co)] += sum over the tap's pixels of x[ci] * dy[co]. Tiles of
  ;; 4 x 8: four x values splatted, times two quads of dy (rank-1 updates); a partial tile repeats
  ;; its last row and overlaps its last quad with the one before, and adds only what is new.
  (func (export "convFilter") (param $x i32) (param $dy i32) (param $CI i32) (param $CO i32)
      (param $xPix i32) (param $xRow i32) (param $dyPix i32) (param $dyRow i32)
      (param $taps i32) (param $nTaps i32) (param $acc i32) (param $tmp i32)
    (local $t i32) (local $e i32) (local $m0 i32) (local $n i32) (local $r i32) (local $k i32)
    (local $rows i32) (local $cols i32) (local $xp i32) (local $dp i32) (local $xr i32) (local $dr i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $c0 i32) (local $c1 i32) (local $last i32)
    (local $dst i32) (local $i i32) (local $has1 i32)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $last (i32.sub (local.get $CI) (i32.const 1)))
    (block $tapsDone
      (loop $tapLoop
        (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $nTaps)))
        (local.set $e (i32.add (local.get $taps) (i32.mul (local.get $t) (i32.const 20))))
        (local.set $rows (i32.load offset=8 (local.get $e)))
        (local.set $cols (i32.load offset=12 (local.get $e)))
        (local.set $m0 (i32.const 0))
        (block $mDone
          (loop $mLoop
            (br_if $mDone (i32.ge_u (local.get $m0) (local.get $CI)))
            ;; Byte offsets of rows m0 + 1 .. m0 + 3 from row m0 (the last row repeated past CI).
            (local.set $o1 (i32.shl (i32.sub (select (i32.add (local.get $m0) (i32.const 1)) (local.get $last)
              (i32.lt_u (i32.add (local.get $m0) (i32.const 1)) (local.get $CI))) (local.get $m0)) (i32.const 2)))
            (local.set $o2 (i32.shl (i32.sub (select (i32.add (local.get $m0) (i32.const 2)) (local.get $last)
              (i32.lt_u (i32.add (local.get $m0) (i32.const 2)) (local.get $CI))) (local.get $m0)) (i32.const 2)))
            (local.set $o3 (i32.shl (i32.sub (select (i32.add (local.get $m0) (i32.const 3)) (local.get $last)
              (i32.lt_u (i32.add (local.get $m0) (i32.const 3)) (local.get $CI))) (local.get $m0)) (i32.const 2)))
            (local.set $n (i32.const 0))
            (block $nDone
              (loop $nLoop
                (br_if $nDone (i32.ge_u (local.get $n) (local.get $CO)))
                (local.set $c0 (select (local.get $n) (i32.sub (local.get $CO) (i32.const 4))
                  (i32.le_u (i32.add (local.get $n) (i32.const 4)) (local.get $CO))))
                (local.set $has1 (i32.lt_u (i32.add (local.get $n) (i32.const 4)) (local.get $CO)))
                (local.set $c1 (select (i32.add (local.get $n) (i32.const 4)) (i32.sub (local.get $CO) (i32.const 4))
                  (i32.le_u (i32.add (local.get $n) (i32.const 8)) (local.get $CO))))
                ;; Without a second quad, c1 repeats c0 (its sums are dropped).
                (if (i32.eqz (local.get $has1)) (then (local.set $c1 (local.get $c0))))
                (local.set $c1 (i32.shl (i32.sub (local.get $c1) (local.get $c0)) (i32.const 2)))
                (local.set $xr (i32.add (i32.add (local.get $x) (i32.load (local.get $e))) (i32.shl (local.get $m0) (i32.const 2))))
                (local.set $dr (i32.add (i32.add (local.get $dy) (i32.load offset=4 (local.get $e))) (i32.shl (local.get $c0) (i32.const 2))))
                (local.set $a00 (v128.const i32x4 0 0 0 0))
                (local.set $a01 (v128.const i32x4 0 0 0 0))
                (local.set $a10 (v128.const i32x4 0 0 0 0))
                (local.set $a11 (v128.const i32x4 0 0 0 0))
                (local.set $a20 (v128.const i32x4 0 0 0 0))
                (local.set $a21 (v128.const i32x4 0 0 0 0))
                (local.set $a30 (v128.const i32x4 0 0 0 0))
                (local.set $a31 (v128.const i32x4 0 0 0 0))
                (local.set $r (local.get $rows))
                (block $rowsDone
                  (loop $rowLoop
                    (br_if $rowsDone (i32.eqz (local.get $r)))
                    (local.set $xp (local.get $xr))
                    (local.set $dp (local.get $dr))
                    (local.set $k (local.get $cols))
                    (block $colsDone
                      (loop $colLoop
                        (br_if $colsDone (i32.eqz (local.get $k)))
                        (local.set $d0 (v128.load (local.get $dp)))
                        (local.set $d1 (v128.load (i32.add (local.get $dp) (local.get $c1))))
                        (local.set $s (v128.load32_splat (local.get $xp)))
                        (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
                        (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
                        (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o1))))
                        (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
                        (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
                        (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o2))))
                        (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
                        (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
                        (local.set $s (v128.load32_splat (i32.add (local.get $xp) (local.get $o3))))
                        (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
                        (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
                        (local.set $xp (i32.add (local.get $xp) (local.get $xPix)))
                        (local.set $dp (i32.add (local.get $dp) (local.get $dyPix)))
                        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                        (br $colLoop)))
                    (local.set $xr (i32.add (local.get $xr) (local.get $xRow)))
                    (local.set $dr (i32.add (local.get $dr) (local.get $dyRow)))
                    (local.set $r (i32.sub (local.get $r) (i32.const 1)))
                    (br $rowLoop)))
                ;; Row m0 + i of the tile goes to acc + accOff + 8 * ((m0 + i) * CO + c0).
                (local.set $dst (i32.add (i32.add (local.get $acc) (i32.load offset=16 (local.get $e)))
                  (i32.shl (i32.add (i32.mul (local.get $m0) (local.get $CO)) (local.get $c0)) (i32.const 3))))
                (local.set $i (i32.shl (local.get $CO) (i32.const 3)))
                (local.set $c1 (i32.shl (local.get $c1) (i32.const 1)))
                (local.set $k (i32.sub (local.get $n) (local.get $c0)))
                ;; $r: lanes of the second quad to skip (4 when there is none).
                (local.set $r (select (i32.sub (i32.add (local.get $n) (i32.const 4)) (i32.add (local.get $c0) (i32.shr_u (local.get $c1) (i32.const 3))))
                  (i32.const 4) (local.get $has1)))
                (call $flush (local.get $a00) (local.get $dst) (local.get $k) (local.get $tmp))
                (call $flush (local.get $a01) (i32.add (local.get $dst) (local.get $c1)) (local.get $r) (local.get $tmp))
                (if (i32.lt_u (i32.add (local.get $m0) (i32.const 1)) (local.get $CI))
                  (then
                    (local.set $dst (i32.add (local.get $dst) (local.get $i)))
                    (call $flush (local.get $a10) (local.get $dst) (local.get $k) (local.get $tmp))
                    (call $flush (local.get $a11) (i32.add (local.get $dst) (local.get $c1)) (local.get $r) (local.get $tmp))))
                (if (i32.lt_u (i32.add (local.get $m0) (i32.const 2)) (local.get $CI))
                  (then
                    (local.set $dst (i32.add (local.get $dst) (local.get $i)))
                    (call $flush (local.get $a20) (local.get $dst) (local.get $k) (local.get $tmp))
                    (call $flush (local.get $a21) (i32.add (local.get $dst) (local.get $c1)) (local.get $r) (local.get $tmp))))
                (if (i32.lt_u (i32.add (local.get $m0) (i32.const 3)) (local.get $CI))
                  (then
                    (local.set $dst (i32.add (local.get $dst) (local.get $i)))
                    (call $flush (local.get $a30) (local.get $dst) (local.get $k) (local.get $tmp))
                    (call $flush (local.get $a31) (i32.add (local.get $dst) (local.get $c1)) (local.get $r) (local.get $tmp))))
                (local.set $n (i32.add (local.get $n) (i32.const 8)))
                (br $nLoop)))
            (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
            (br $mLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tapLoop))))

  ;; C = A B, float32, A and C row-major with row strides in bytes: c[m * ldc + 4n] = sum over
  ;; k < K of a[m * lda + 4k] * B(k, n), for m < M and n < N (N >= 4). Tiles of 4 x 8 as in
  ;; convFilter; a partial tile repeats its last row and overlaps its last quad with the one before,
  ;; and stores the repeated sums again (the same values, summed in the same order). B comes packed
  ;; in panels, one per tile column: panel j (bytes 32 K j ..) holds, for each k, the 8 values
  ;; B(k, c0 .. c0 + 3) and B(k, c1 .. c1 + 3), c0 = min(8j, N - 4) and c1 = min(8j + 4, N - 4).
  (func (export "gemm") (param $a i32) (param $lda i32) (param $b i32) (param $c i32)
      (param $ldc i32) (param $M i32) (param $N i32) (param $K i32)
    (local $m0 i32) (local $n i32) (local $k i32) (local $ap i32) (local $bp i32) (local $last i32)
    (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $c0 i32) (local $c1 i32) (local $dst i32)
    (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local.set $last (i32.sub (local.get $M) (i32.const 1)))
    (block $mDone
      (loop $mLoop
        (br_if $mDone (i32.ge_u (local.get $m0) (local.get $M)))
        ;; Rows m0 + 1 .. m0 + 3 as row counts from m0 (the last row repeated past M).
        (local.set $r1 (i32.sub (select (i32.add (local.get $m0) (i32.const 1)) (local.get $last)
          (i32.lt_u (i32.add (local.get $m0) (i32.const 1)) (local.get $M))) (local.get $m0)))
        (local.set $r2 (i32.sub (select (i32.add (local.get $m0) (i32.const 2)) (local.get $last)
          (i32.lt_u (i32.add (local.get $m0) (i32.const 2)) (local.get $M))) (local.get $m0)))
        (local.set $r3 (i32.sub (select (i32.add (local.get $m0) (i32.const 3)) (local.get $last)
          (i32.lt_u (i32.add (local.get $m0) (i32.const 3)) (local.get $M))) (local.get $m0)))
        (local.set $o1 (i32.mul (local.get $r1) (local.get $lda)))
        (local.set $o2 (i32.mul (local.get $r2) (local.get $lda)))
        (local.set $o3 (i32.mul (local.get $r3) (local.get $lda)))
        (local.set $n (i32.const 0))
        (block $nDone
          (loop $nLoop
            (br_if $nDone (i32.ge_u (local.get $n) (local.get $N)))
            (local.set $c0 (select (local.get $n) (i32.sub (local.get $N) (i32.const 4))
              (i32.le_u (i32.add (local.get $n) (i32.const 4)) (local.get $N))))
            (local.set $c1 (select (i32.add (local.get $n) (i32.const 4)) (i32.sub (local.get $N) (i32.const 4))
              (i32.le_u (i32.add (local.get $n) (i32.const 8)) (local.get $N))))
            ;; Byte offset of the second quad from the first.
            (local.set $c1 (i32.shl (i32.sub (local.get $c1) (local.get $c0)) (i32.const 2)))
            (local.set $ap (i32.add (local.get $a) (i32.mul (local.get $m0) (local.get $lda))))
            (local.set $bp (i32.add (local.get $b) (i32.mul (i32.shl (local.get $n) (i32.const 2)) (local.get $K))))
            (local.set $a00 (v128.const i32x4 0 0 0 0))
            (local.set $a01 (v128.const i32x4 0 0 0 0))
            (local.set $a10 (v128.const i32x4 0 0 0 0))
            (local.set $a11 (v128.const i32x4 0 0 0 0))
            (local.set $a20 (v128.const i32x4 0 0 0 0))
            (local.set $a21 (v128.const i32x4 0 0 0 0))
            (local.set $a30 (v128.const i32x4 0 0 0 0))
            (local.set $a31 (v128.const i32x4 0 0 0 0))
            (local.set $k (local.get $K))
            (block $kDone
              (loop $kLoop
                (br_if $kDone (i32.eqz (local.get $k)))
                (local.set $d0 (v128.load (local.get $bp)))
                (local.set $d1 (v128.load offset=16 (local.get $bp)))
                (local.set $s (v128.load32_splat (local.get $ap)))
                (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
                (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
                (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $o1))))
                (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
                (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
                (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $o2))))
                (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
                (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
                (local.set $s (v128.load32_splat (i32.add (local.get $ap) (local.get $o3))))
                (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
                (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
                (local.set $ap (i32.add (local.get $ap) (i32.const 4)))
                (local.set $bp (i32.add (local.get $bp) (i32.const 32)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br $kLoop)))
            ;; Rows in reverse, so that a repeated last row ends with its own sums (all equal anyway).
            (local.set $dst (i32.add (i32.add (local.get $c) (i32.mul (i32.add (local.get $m0) (local.get $r3)) (local.get $ldc)))
              (i32.shl (local.get $c0) (i32.const 2))))
            (v128.store (local.get $dst) (local.get $a30))
            (v128.store (i32.add (local.get $dst) (local.get $c1)) (local.get $a31))
            (local.set $dst (i32.add (i32.add (local.get $c) (i32.mul (i32.add (local.get $m0) (local.get $r2)) (local.get $ldc)))
              (i32.shl (local.get $c0) (i32.const 2))))
            (v128.store (local.get $dst) (local.get $a20))
            (v128.store (i32.add (local.get $dst) (local.get $c1)) (local.get $a21))
            (local.set $dst (i32.add (i32.add (local.get $c) (i32.mul (i32.add (local.get $m0) (local.get $r1)) (local.get $ldc)))
              (i32.shl (local.get $c0) (i32.const 2))))
            (v128.store (local.get $dst) (local.get $a10))
            (v128.store (i32.add (local.get $dst) (local.get $c1)) (local.get $a11))
            (local.set $dst (i32.add (i32.add (local.get $c) (i32.mul (local.get $m0) (local.get $ldc)))
              (i32.shl (local.get $c0) (i32.const 2))))
            (v128.store (local.get $dst) (local.get $a00))
            (v128.store (i32.add (local.get $dst) (local.get $c1)) (local.get $a01))
            (local.set $n (i32.add (local.get $n) (i32.const 8)))
            (br $nLoop)))
        (local.set $m0 (i32.add (local.get $m0) (i32.const 4)))
        (br $mLoop))))

  ;; ReLU6's (ClipByValue's) gradient: out[i] = dy[i] where lo <= x[i] <= hi, else 0 (NaN in x: 0).
  (func (export "clipGrad") (param $x i32) (param $dy i32) (param $out i32) (param $n i32) (param $lo f32)
      (param $hi f32)
    (local $end i32) (local $vlo v128) (local $vhi v128) (local $v v128) (local $s f32)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $v (v128.load (local.get $x)))
        (v128.store (local.get $out) (v128.and (v128.load (local.get $dy))
          (v128.and (f32x4.ge (local.get $v) (local.get $vlo)) (f32x4.le (local.get $v) (local.get $vhi)))))
        (local.set $x (i32.add (local.get $x) (i32.const 16)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (br $quads)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $s (f32.load (local.get $x)))
        (f32.store (local.get $out) (select (f32.load (local.get $dy)) (f32.const 0)
          (i32.and (f32.ge (local.get $s) (local.get $lo)) (f32.le (local.get $s) (local.get $hi)))))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (br $rest))))

  ;; Column sums in float64: sums[c] += sum over r < rows of x[r * C + c], for C a multiple of 4.
  (func (export "colSums") (param $x i32) (param $rows i32) (param $C i32) (param $sums i32)
    (local $end i32) (local $rowEnd i32) (local $s i32) (local $v v128)
    (local.set $end (i32.add (local.get $x) (i32.shl (i32.mul (local.get $rows) (local.get $C)) (i32.const 2))))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (i32.shl (local.get $C) (i32.const 2))))
        (local.set $s (local.get $sums))
        (block $rowDone
          (loop $quads
            (br_if $rowDone (i32.ge_u (local.get $x) (local.get $rowEnd)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $s) (f64x2.add (v128.load (local.get $s)) (f64x2.promote_low_f32x4 (local.get $v))))
            (v128.store offset=16 (local.get $s) (f64x2.add (v128.load offset=16 (local.get $s))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $s (i32.add (local.get $s) (i32.const 32)))
            (br $quads)))
        (br $rowLoop))))

  ;; BatchNormalization's gradient, one pass (C a multiple of 4): dx = (dy * q[c]) * t[c] in float32,
  ;; and in float64 sums[c] += dy, sums[C + c] += dy * (x - mean[c]) (mean: float64).
  (func (export "bnGrad") (param $x i32) (param $dy i32) (param $dx i32) (param $rows i32) (param $C i32)
      (param $mean i32) (param $q i32) (param $t i32) (param $sums i32)
    (local $end i32) (local $rowEnd i32) (local $c i32) (local $s i32) (local $m i32) (local $rowBytes i32)
    (local $g v128) (local $v v128) (local $lo v128) (local $hi v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $c (i32.const 0))
        (local.set $s (local.get $sums))
        (local.set $m (local.get $mean))
        (block $rowDone
          (loop $quads
            (br_if $rowDone (i32.ge_u (local.get $x) (local.get $rowEnd)))
            (local.set $g (v128.load (local.get $dy)))
            (local.set $v (v128.load (local.get $x)))
            (v128.store (local.get $dx) (f32x4.mul (f32x4.mul (local.get $g) (v128.load (i32.add (local.get $q) (local.get $c))))
              (v128.load (i32.add (local.get $t) (local.get $c)))))
            (local.set $lo (f64x2.promote_low_f32x4 (local.get $g)))
            (local.set $hi (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $g) (local.get $g))))
            (v128.store (local.get $s) (f64x2.add (v128.load (local.get $s)) (local.get $lo)))
            (v128.store offset=16 (local.get $s) (f64x2.add (v128.load offset=16 (local.get $s)) (local.get $hi)))
            (local.set $s (i32.add (local.get $s) (i32.shl (local.get $rowBytes) (i32.const 1))))
            (v128.store (local.get $s) (f64x2.add (v128.load (local.get $s)) (f64x2.mul (local.get $lo)
              (f64x2.sub (f64x2.promote_low_f32x4 (local.get $v)) (v128.load (local.get $m))))))
            (v128.store offset=16 (local.get $s) (f64x2.add (v128.load offset=16 (local.get $s)) (f64x2.mul (local.get $hi)
              (f64x2.sub (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v)))
                (v128.load offset=16 (local.get $m))))))
            (local.set $s (i32.sub (local.get $s) (i32.sub (i32.shl (local.get $rowBytes) (i32.const 1)) (i32.const 32))))
            (local.set $m (i32.add (local.get $m) (i32.const 32)))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
            (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
            (br $quads)))
        (br $rowLoop))))
)
