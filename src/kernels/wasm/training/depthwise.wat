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
