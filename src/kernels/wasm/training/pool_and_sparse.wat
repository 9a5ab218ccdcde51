  (func (export "maxPoolGrad") (param $x i32) (param $dy i32) (param $dx i32) (param $C i32) (param $nRows i32)
      (param $rowStep i32) (param $cols i32) (param $outW i32) (param $colStep i32)
    (local $ow i32) (local $c i32) (local $c0 i32) (local $nCols i32) (local $base i32) (local $i i32) (local $j i32)
    (local $p i32) (local $idx i32) (local $v v128) (local $best v128) (local $at v128) (local $gt v128) (local $g v128)
    (local $q i32)
    (block $owDone
      (loop $owLoop
        (br_if $owDone (i32.ge_u (local.get $ow) (local.get $outW)))
        (local.set $base (i32.load (i32.add (local.get $cols) (i32.shl (local.get $ow) (i32.const 3)))))
        (local.set $nCols (i32.load offset=4 (i32.add (local.get $cols) (i32.shl (local.get $ow) (i32.const 3)))))
        (local.set $c (i32.const 0))
        (block $quadsDone
          (loop $quads
            (br_if $quadsDone (i32.ge_u (local.get $c) (local.get $C)))
            (local.set $c0 (select (local.get $c) (i32.sub (local.get $C) (i32.const 4))
              (i32.le_u (i32.add (local.get $c) (i32.const 4)) (local.get $C))))
            (local.set $q (i32.add (local.get $base) (i32.shl (local.get $c0) (i32.const 2))))
            (local.set $best (f32x4.splat (f32.const -inf)))
            (local.set $at (i32x4.splat (i32.const -1)))
            (local.set $idx (i32.const 0))
            (local.set $i (i32.const 0))
            (block $rDone
              (loop $rLoop
                (br_if $rDone (i32.ge_u (local.get $i) (local.get $nRows)))
                (local.set $p (i32.add (local.get $q) (i32.mul (local.get $i) (local.get $rowStep))))
                (local.set $j (local.get $nCols))
                (block $cDone
                  (loop $cLoop
                    (br_if $cDone (i32.le_s (local.get $j) (i32.const 0)))
                    (local.set $v (v128.load (i32.add (local.get $x) (local.get $p))))
                    (local.set $gt (f32x4.gt (local.get $v) (local.get $best)))
                    (local.set $best (v128.bitselect (local.get $v) (local.get $best) (local.get $gt)))
                    (local.set $at (v128.bitselect (i32x4.splat (local.get $idx)) (local.get $at) (local.get $gt)))
                    (local.set $idx (i32.add (local.get $idx) (i32.const 1)))
                    (local.set $p (i32.add (local.get $p) (local.get $colStep)))
                    (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                    (br $cLoop)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $rLoop)))
            ;; dy, without the lanes an overlapping last quad repeats.
            (local.set $g (v128.and (v128.load (i32.add (local.get $dy) (i32.shl (i32.add (i32.mul (local.get $ow) (local.get $C))
              (local.get $c0)) (i32.const 2))))
              (i32x4.gt_s (v128.const i32x4 0 1 2 3) (i32x4.splat (i32.sub (i32.sub (local.get $c) (local.get $c0)) (i32.const 1))))))
            (local.set $idx (i32.const 0))
            (local.set $i (i32.const 0))
            (block $rDone2
              (loop $rLoop2
                (br_if $rDone2 (i32.ge_u (local.get $i) (local.get $nRows)))
                (local.set $p (i32.add (i32.add (local.get $dx) (local.get $q)) (i32.mul (local.get $i) (local.get $rowStep))))
                (local.set $j (local.get $nCols))
                (block $cDone2
                  (loop $cLoop2
                    (br_if $cDone2 (i32.le_s (local.get $j) (i32.const 0)))
                    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p))
                      (v128.and (local.get $g) (i32x4.eq (local.get $at) (i32x4.splat (local.get $idx))))))
                    (local.set $idx (i32.add (local.get $idx) (i32.const 1)))
                    (local.set $p (i32.add (local.get $p) (local.get $colStep)))
                    (local.set $j (i32.sub (local.get $j) (i32.const 1)))
                    (br $cLoop2)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $rLoop2)))
            (local.set $c (i32.add (local.get $c0) (i32.const 4)))
            (br $quads)))
        (local.set $ow (i32.add (local.get $ow) (i32.const 1)))
        (br $owLoop))))

  ;; Adds patch gradients back onto the input over the taps (col2im): for each tap (dxOff, pOff,
  ;; rows, cols, unused) and each pixel (r, k) of its rectangle, for c < C,
  ;; dx[dxOff + r * dxRow + k * dxPix + 4c] += p[pOff + r * pRow + k * pPix + 4c].
  (func (export "scatterTaps") (param $p i32) (param $dx i32) (param $C i32) (param $dxPix i32) (param $dxRow i32)
      (param $pPix i32) (param $pRow i32) (param $taps i32) (param $nTaps i32)
    (local $t i32) (local $e i32) (local $r i32) (local $k i32) (local $sr i32) (local $dr i32) (local $s i32)
    (local $d i32) (local $end i32) (local $quadBytes i32) (local $rowBytes i32)
    (local.set $quadBytes (i32.shl (i32.and (local.get $C) (i32.const -4)) (i32.const 2)))
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (block $tapsDone
      (loop $tapLoop
        (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $nTaps)))
        (local.set $e (i32.add (local.get $taps) (i32.mul (local.get $t) (i32.const 20))))
        (local.set $dr (i32.add (local.get $dx) (i32.load (local.get $e))))
        (local.set $sr (i32.add (local.get $p) (i32.load offset=4 (local.get $e))))
        (local.set $r (i32.load offset=8 (local.get $e)))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.eqz (local.get $r)))
            (local.set $k (i32.load offset=12 (local.get $e)))
            (local.set $s (local.get $sr))
            (local.set $d (local.get $dr))
            (block $colsDone
              (loop $colLoop
                (br_if $colsDone (i32.eqz (local.get $k)))
                (local.set $end (i32.add (local.get $s) (local.get $quadBytes)))
                (block $qDone
                  (loop $qLoop
                    (br_if $qDone (i32.ge_u (local.get $s) (local.get $end)))
                    (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (v128.load (local.get $s))))
                    (local.set $s (i32.add (local.get $s) (i32.const 16)))
                    (local.set $d (i32.add (local.get $d) (i32.const 16)))
                    (br $qLoop)))
                (local.set $end (i32.add (local.get $end) (i32.sub (local.get $rowBytes) (local.get $quadBytes))))
                (block $sDone
                  (loop $sLoop
                    (br_if $sDone (i32.ge_u (local.get $s) (local.get $end)))
                    (f32.store (local.get $d) (f32.add (f32.load (local.get $d)) (f32.load (local.get $s))))
                    (local.set $s (i32.add (local.get $s) (i32.const 4)))
                    (local.set $d (i32.add (local.get $d) (i32.const 4)))
                    (br $sLoop)))
                ;; Back to the pixel's start, then on to the next pixel.
                (local.set $s (i32.add (i32.sub (local.get $s) (local.get $rowBytes)) (local.get $pPix)))
                (local.set $d (i32.add (i32.sub (local.get $d) (local.get $rowBytes)) (local.get $dxPix)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br $colLoop)))
            (local.set $sr (i32.add (local.get $sr) (local.get $pRow)))
            (local.set $dr (i32.add (local.get $dr) (local.get $dxRow)))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $rowLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tapLoop))))

  ;; The nonzero entries (NaN included) of the M rows of dy (CO entries each), listed for sparseFilter:
  ;; row m's are the (4 * co * CI, dy[m, co]) pairs at bytes starts[m] .. starts[m + 1] of $pairs.
  (func (export "listNonzeros") (param $dy i32) (param $M i32) (param $CO i32) (param $CI i32) (param $starts i32)
      (param $pairs i32)
    (local $m i32) (local $co i32) (local $v f32) (local $at i32)
    (local.set $at (local.get $pairs))
    (block $mDone
      (loop $mLoop
        (br_if $mDone (i32.ge_u (local.get $m) (local.get $M)))
        (i32.store (i32.add (local.get $starts) (i32.shl (local.get $m) (i32.const 2))) (local.get $at))
        (local.set $co (i32.const 0))
        (block $coDone
          (loop $coLoop
            (br_if $coDone (i32.ge_u (local.get $co) (local.get $CO)))
            (local.set $v (f32.load (local.get $dy)))
            (i32.store (local.get $at) (i32.shl (i32.mul (local.get $co) (local.get $CI)) (i32.const 2)))
            (f32.store offset=4 (local.get $at) (local.get $v))
            ;; Branch-free: the pair is kept by moving on only when v is nonzero.
            (local.set $at (i32.add (local.get $at) (i32.shl (f32.ne (local.get $v) (f32.const 0)) (i32.const 3))))
            (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
            (local.set $co (i32.add (local.get $co) (i32.const 1)))
            (br $coLoop)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $mLoop)))
    (i32.store (i32.add (local.get $starts) (i32.shl (local.get $M) (i32.const 2))) (local.get $at)))

  ;; The convolution filter gradient over dy's nonzero entries (listed by listNonzeros), into float32
  ;; sums laid out [tap, co, ci]: for each tap (xOff, dy pixel index, rows, cols, accOff: 8 * tap * CI * CO)
  ;; and pixel of its rectangle (pixel index + r * outW + k), for each listed (co, d),
  ;; sums[accOff / 2 + 4 (co * CI + ci)] += d * x[ci], ci < CI.
  (func (export "sparseFilter") (param $x i32) (param $starts i32) (param $CI i32) (param $outW i32)
      (param $xPix i32) (param $xRow i32) (param $taps i32) (param $nTaps i32) (param $sums i32)
    (local $t i32) (local $e i32) (local $r i32) (local $k i32) (local $xr i32) (local $xp i32) (local $at i32)
    (local $pr i32) (local $pp i32) (local $l i32) (local $lEnd i32) (local $d f32) (local $dst i32) (local $src i32)
    (local $end i32) (local $s v128) (local $ciBytes i32) (local $ciQuadBytes i32)
    (local.set $ciBytes (i32.shl (local.get $CI) (i32.const 2)))
    (local.set $ciQuadBytes (i32.shl (i32.and (local.get $CI) (i32.const -4)) (i32.const 2)))
    (block $tapsDone
      (loop $tapLoop
        (br_if $tapsDone (i32.ge_u (local.get $t) (local.get $nTaps)))
        (local.set $e (i32.add (local.get $taps) (i32.mul (local.get $t) (i32.const 20))))
        (local.set $xr (i32.add (local.get $x) (i32.load (local.get $e))))
        (local.set $pr (i32.add (local.get $starts) (i32.shl (i32.load offset=4 (local.get $e)) (i32.const 2))))
        (local.set $at (i32.add (local.get $sums) (i32.shr_u (i32.load offset=16 (local.get $e)) (i32.const 1))))
        (local.set $r (i32.load offset=8 (local.get $e)))
        (block $rowsDone
          (loop $rowLoop
            (br_if $rowsDone (i32.eqz (local.get $r)))
            (local.set $xp (local.get $xr))
            (local.set $pp (local.get $pr))
            (local.set $k (i32.load offset=12 (local.get $e)))
            (block $colsDone
              (loop $colLoop
                (br_if $colsDone (i32.eqz (local.get $k)))
                (local.set $l (i32.load (local.get $pp)))
                (local.set $lEnd (i32.load offset=4 (local.get $pp)))
                (local.set $end (i32.add (local.get $xp) (local.get $ciQuadBytes)))
                (block $lDone
                  (loop $lLoop
                    (br_if $lDone (i32.ge_u (local.get $l) (local.get $lEnd)))
                    (local.set $d (f32.load offset=4 (local.get $l)))
                    (local.set $s (f32x4.splat (local.get $d)))
                    (local.set $dst (i32.add (local.get $at) (i32.load (local.get $l))))
                    (local.set $src (local.get $xp))
                    (block $qDone
                      (loop $qLoop
                        (br_if $qDone (i32.ge_u (local.get $src) (local.get $end)))
                        (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst))
                          (f32x4.mul (local.get $s) (v128.load (local.get $src)))))
                        (local.set $src (i32.add (local.get $src) (i32.const 16)))
                        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                        (br $qLoop)))
                    (block $sDone
                      (loop $sLoop
                        (br_if $sDone (i32.ge_u (local.get $src) (i32.add (local.get $xp) (local.get $ciBytes))))
                        (f32.store (local.get $dst) (f32.add (f32.load (local.get $dst))
                          (f32.mul (local.get $d) (f32.load (local.get $src)))))
                        (local.set $src (i32.add (local.get $src) (i32.const 4)))
                        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
                        (br $sLoop)))
                    (local.set $l (i32.add (local.get $l) (i32.const 8)))
                    (br $lLoop)))
                (local.set $xp (i32.add (local.get $xp) (local.get $xPix)))
                (local.set $pp (i32.add (local.get $pp) (i32.const 4)))
                (local.set $k (i32.sub (local.get $k) (i32.const 1)))
                (br $colLoop)))
            (local.set $xr (i32.add (local.get $xr) (local.get $xRow)))
            (local.set $pr (i32.add (local.get $pr) (i32.shl (local.get $outW) (i32.const 2))))
            (local.set $r (i32.sub (local.get $r) (i32.const 1)))
            (br $rowLoop)))
        (local.set $t (i32.add (local.get $t) (i32.const 1)))
        (br $tapLoop))))

  ;; Adds sparseFilter's float32 sums ([tap, co, ci]) to float64 accumulators laid out
  ;; [tap, ci, co], and zeroes the sums: n = taps * CO * CI.
  (func (export "flushSums") (param $sums i32) (param $acc i32) (param $n i32) (param $CI i32) (param $CO i32)
    (local $i i32) (local $co i32) (local $ci i32) (local $base i32) (local $p i32) (local $q i32)
    (block $done
      (loop $tapLoop
        (br_if $done (i32.ge_u (local.get $base) (local.get $n)))
        (local.set $co (i32.const 0))
        (block $coDone
          (loop $coLoop
            (br_if $coDone (i32.ge_u (local.get $co) (local.get $CO)))
            (local.set $ci (i32.const 0))
            (block $ciDone
              (loop $ciLoop
                (br_if $ciDone (i32.ge_u (local.get $ci) (local.get $CI)))
                (local.set $p (i32.add (local.get $sums)
                  (i32.shl (i32.add (local.get $base) (i32.add (i32.mul (local.get $co) (local.get $CI)) (local.get $ci))) (i32.const 2))))
                (local.set $q (i32.add (local.get $acc)
                  (i32.shl (i32.add (local.get $base) (i32.add (i32.mul (local.get $ci) (local.get $CO)) (local.get $co))) (i32.const 3))))
                (f64.store (local.get $q) (f64.add (f64.load (local.get $q)) (f64.promote_f32 (f32.load (local.get $p)))))
                (f32.store (local.get $p) (f32.const 0))
                (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
                (br $ciLoop)))
            (local.set $co (i32.add (local.get $co) (i32.const 1)))
            (br $coLoop)))
        (local.set $base (i32.add (local.get $base) (i32.mul (local.get $CI) (local.get $CO))))
        (br $tapLoop))))

  ;; 1 when the n float32 at p are all finite, else 0.
  (func (export "allFinite") (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $bad v128) (local $v v128)
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $quads
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        ;; x - x is 0 for finite x, NaN for infinities and NaN.
        (local.set $bad (v128.or (local.get $bad) (f32x4.ne (f32x4.sub (local.get $v) (local.get $v)) (f32x4.sub (local.get $v) (local.get $v)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $quads)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $p) (local.get $end)))
        (if (f32.ne (f32.sub (f32.load (local.get $p)) (f32.load (local.get $p))) (f32.const 0)) (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $rest)))
    (i32.eqz (v128.any_true (local.get $bad))))

  ;; C = A B skipping A's zeros (a sparse dy times a filter): for m < M, the nonzero a[m * lda + 4k]
  ;; (NaN included) are listed at $list as (k * ldb, value) pairs, then c[m * ldc + 4n] = sum over them,
  ;; in order of k, of value * b[k * ldb + 4n], for n < N (N >= 4): blocks of 32 columns, then single
  ;; quads, the last overlapping the one before (storing the same sums again).
