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

  ;; BatchNormalization's forward pass exactly as tfjs-backend-wasm's FusedBatchNorm computes it (C a
  ;; multiple of 4): t = (x - mean[c]) * scale[c] in float32, then out = offset[c] + t / norm[c] in
  ;; float64, rounded once to float32 (what the stock build does; measured, not documented). The
  ;; parameters come per quad of channels, 96 bytes: mean and scale (4 float32 each), norm and offset
  ;; (4 float64 each).
  (func (export "bnForward") (param $x i32) (param $out i32) (param $rows i32) (param $C i32) (param $params i32)
    (local $end i32) (local $rowEnd i32) (local $p i32) (local $rowBytes i32) (local $t v128)
    (local.set $rowBytes (i32.shl (local.get $C) (i32.const 2)))
    (local.set $end (i32.add (local.get $x) (i32.mul (local.get $rows) (local.get $rowBytes))))
    (block $done
      (loop $rowLoop
        (br_if $done (i32.ge_u (local.get $x) (local.get $end)))
        (local.set $rowEnd (i32.add (local.get $x) (local.get $rowBytes)))
        (local.set $p (local.get $params))
        (block $rowDone
          (loop $quads
            (br_if $rowDone (i32.ge_u (local.get $x) (local.get $rowEnd)))
            (local.set $t (f32x4.mul (f32x4.sub (v128.load (local.get $x)) (v128.load (local.get $p)))
              (v128.load offset=16 (local.get $p))))
            (v128.store (local.get $out) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
              (f32x4.demote_f64x2_zero (f64x2.add (v128.load offset=64 (local.get $p))
                (f64x2.div (f64x2.promote_low_f32x4 (local.get $t)) (v128.load offset=32 (local.get $p)))))
              (f32x4.demote_f64x2_zero (f64x2.add (v128.load offset=80 (local.get $p))
                (f64x2.div (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
                  (local.get $t) (local.get $t))) (v128.load offset=48 (local.get $p)))))))
            (local.set $x (i32.add (local.get $x) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $p (i32.add (local.get $p) (i32.const 96)))
            (br $quads)))
        (br $rowLoop))))
)
