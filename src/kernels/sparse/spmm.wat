;; Sparse-times-dense products for the sparse kernels, run on the memory of
;; tfjs-backend-wasm (imported as env.memory; every pointer is a byte offset
;; into it). The design follows XNNPACK's SpMM (Elsen et al., "Fast Sparse
;; ConvNets"): the weights W [K, N] are kept per output channel n as a list of
;; (k, w) pairs; the activations are packed k-major in tiles of T rows
;; (`pack`), so that one weight multiplies T activations with T/4 SIMD
;; multiply-adds and the sparse operand only ever gives scalars.
;;
;; Sparse form, per output channel n (or per group of 4 channels for the
;; [1, 4]-blocked form): counts[n] (a multiple of 4: the lists are padded with
;; k = 0, w = 0, harmless because the kernels run only on finite activations),
;; then the lists' addresses of x[k] in the form's own row buffer `xbuf` (i32:
;; xbuf + 4k) and w (f32, or 4 x f32 per block) one after the other. The tiled
;; kernels take `xt - s * xbuf` for their tile `xt` (s = bytes per k / 4,
;; arithmetic modulo 2^32), so that `xt' + s * address` is row k of the tile.
;; The single-row kernel (`spmvGroups`) reads the same lists interleaved four
;; channels at a time (sparse_format.ts's RowLists), its row copied to `xbuf`
;; by `copyRow`, which checks it is finite in the same pass.
;;
;; Results are clamped to [lo, hi] (relu: [0, inf], relu6: [0, 6], otherwise
;; [-inf, inf]); a NaN result becomes lo under relu and relu6, as in XNNPACK's
;; clamp, and stays NaN otherwise.
;;
;; The source of spmm_module.ts: `npm run build:wasm` compiles this file.
(module
  (import "env" "memory" (memory 0))

  ;; What a NaN result becomes: `lo` when the activation clamps from below (relu, relu6: XNNPACK's
  ;; clamp turns NaN into its lower bound), NaN otherwise (lo = -inf).
  (func $nanTo (param $lo f32) (result f32)
    (select (f32.const nan) (local.get $lo) (f32.eq (local.get $lo) (f32.const -inf))))

  ;; 1 when all n float32 at p are finite, else 0.
  (func (export "finite") (param $p i32) (param $n i32) (result i32)
    (local $acc v128) (local $v v128) (local $end i32) (local $bad i32) (local $x f32)
    (local.set $end (i32.add (local.get $p) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done
      (loop $vec
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $v (v128.load (local.get $p)))
        (local.set $v (f32x4.sub (local.get $v) (local.get $v)))
        (local.set $acc (v128.or (local.get $acc) (f32x4.ne (local.get $v) (local.get $v))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $vec)))
    (local.set $end (i32.add (local.get $end) (i32.shl (i32.and (local.get $n) (i32.const 3)) (i32.const 2))))
    (block $rest
      (loop $one
        (br_if $rest (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $x (f32.load (local.get $p)))
        (local.set $x (f32.sub (local.get $x) (local.get $x)))
        (local.set $bad (i32.or (local.get $bad) (f32.ne (local.get $x) (local.get $x))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $one)))
    (i32.eqz (i32.or (local.get $bad) (v128.any_true (local.get $acc)))))

;; Copies one row of k float32 (at src, colStride bytes apart) to dst (the row buffer of the
  ;; single-row kernels), and returns 1 when all are finite, else 0: the finiteness check and the
  ;; copy in one pass.
  (func (export "copyRow") (param $src i32) (param $colStride i32) (param $k i32) (param $dst i32) (result i32)
    (local $acc v128) (local $v v128) (local $end i32) (local $bad i32) (local $x f32)
    (if (i32.eq (local.get $colStride) (i32.const 4))
      (then
        (local.set $end (i32.add (local.get $dst) (i32.shl (i32.and (local.get $k) (i32.const -4)) (i32.const 2))))
        (block $done
          (loop $vec
            (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
            (local.set $v (v128.load (local.get $src)))
            (v128.store (local.get $dst) (local.get $v))
            (local.set $v (f32x4.sub (local.get $v) (local.get $v)))
            (local.set $acc (v128.or (local.get $acc) (f32x4.ne (local.get $v) (local.get $v))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $vec)))
        (local.set $k (i32.and (local.get $k) (i32.const 3)))))
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $k) (i32.const 2))))
    (block $rest
      (loop $one
        (br_if $rest (i32.ge_u (local.get $dst) (local.get $end)))
        (local.set $x (f32.load (local.get $src)))
        (f32.store (local.get $dst) (local.get $x))
        (local.set $x (f32.sub (local.get $x) (local.get $x)))
        (local.set $bad (i32.or (local.get $bad) (f32.ne (local.get $x) (local.get $x))))
        (local.set $src (i32.add (local.get $src) (local.get $colStride)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (br $one)))
    (i32.eqz (i32.or (local.get $bad) (v128.any_true (local.get $acc)))))

  ;; Packs rows m0 .. m0 + rows - 1 (rows <= t) of A into one tile: dst[k * t + r] = A(m0 + r, k),
  ;; where A(m, k) is a[m * rowStride + k * colStride] (strides in bytes). The caller zeroes a
  ;; partial tile's padding.
  (func (export "pack") (param $a i32) (param $rowStride i32) (param $colStride i32) (param $k i32)
      (param $rows i32) (param $t i32) (param $dst i32)
    (local $r i32) (local $src i32) (local $to i32) (local $end i32) (local $step i32)
    (local.set $step (i32.shl (local.get $t) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $src (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $rowStride))))
        (local.set $to (i32.add (local.get $dst) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $end (i32.add (local.get $to) (i32.mul (local.get $k) (local.get $step))))
        (block $colsDone
          (loop $col
            (br_if $colsDone (i32.ge_u (local.get $to) (local.get $end)))
            (f32.store (local.get $to) (f32.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $colStride)))
            (local.set $to (i32.add (local.get $to) (local.get $step)))
            (br $col)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; Unpacks one output tile (n channels of t rows, [n][t]) into rows m0 .. m0 + rows - 1 of the
  ;; row-major output (n per row): out[r * n + j] = tile[j * t + r].
  (func (export "unpack") (param $tile i32) (param $n i32) (param $rows i32) (param $t i32) (param $out i32)
    (local $r i32) (local $j i32) (local $src i32) (local $to i32) (local $step i32)
    (local.set $step (i32.shl (local.get $t) (i32.const 2)))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $src (i32.add (local.get $tile) (i32.shl (local.get $r) (i32.const 2))))
        (local.set $to (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $n)) (i32.const 2))))
        (local.set $j (i32.const 0))
        (block $colsDone
          (loop $col
            (br_if $colsDone (i32.ge_u (local.get $j) (local.get $n)))
            (f32.store (local.get $to) (f32.load (local.get $src)))
            (local.set $src (i32.add (local.get $src) (local.get $step)))
            (local.set $to (i32.add (local.get $to) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $col)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; One row, four channels (a group) at a time (sparse_format.ts's RowLists): the 4 lanes of an
  ;; accumulator are the group's 4 channels (lane c: channel perm[4g + c]), so they need no
  ;; reduction. counts[2g] blocks first, each an activation address and 4 weights (the rows where
  ;; two or more of the group's channels are nonzero: one activation, splatted, feeds the 4
  ;; lanes); then counts[2g + 1] steps, each 4 addresses and 4 weights, one entry per lane (its
  ;; 4 activations gathered into one vector). perm holds each lane's output byte offset (4j), and
  ;; the lanes of a last group with fewer than 4 channels repeat its lane 0, which is stored last.
  ;; Four blocks or steps at a time into four accumulators; addresses are read two at a time
  ;; (one i64 load), which saves loads, the bound of these loops.
  (func (export "spmvGroups") (param $groups i32) (param $counts i32) (param $bks i32) (param $bws i32)
      (param $ks i32) (param $ws i32) (param $perm i32) (param $bias i32) (param $lo f32) (param $hi f32) (param $out i32)
    (local $pp i32) (local $end i32) (local $q i64) (local $r i64) (local $z v128) (local $b v128)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128) (local $vlo v128) (local $vhi v128) (local $vnan v128)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $vnan (f32x4.splat (call $nanTo (local.get $lo))))
    (local.set $pp (local.get $perm))
    (local.set $groups (i32.add (local.get $perm) (i32.shl (local.get $groups) (i32.const 4))))
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $pp) (local.get $groups)))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (local.set $end (i32.add (local.get $bks) (i32.shl (i32.load (local.get $counts)) (i32.const 2))))
        (block $blockFoursDone
          (loop $blockFours
            (br_if $blockFoursDone (i32.gt_u (i32.add (local.get $bks) (i32.const 16)) (local.get $end)))
            (local.set $q (i64.load (local.get $bks)))
            (local.set $r (i64.load offset=8 (local.get $bks)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load offset=0 (local.get $bws))
                (v128.load32_splat (i32.wrap_i64 (local.get $q))))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $bws))
                (v128.load32_splat (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32)))))))
            (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $bws))
                (v128.load32_splat (i32.wrap_i64 (local.get $r))))))
            (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $bws))
                (v128.load32_splat (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32)))))))
            (local.set $bks (i32.add (local.get $bks) (i32.const 16)))
            (local.set $bws (i32.add (local.get $bws) (i32.const 64)))
            (br $blockFours)))
        (block $blocksDone
          (loop $blocks
            (br_if $blocksDone (i32.ge_u (local.get $bks) (local.get $end)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load (local.get $bws))
                (v128.load32_splat (i32.load (local.get $bks))))))
            (local.set $bks (i32.add (local.get $bks) (i32.const 4)))
            (local.set $bws (i32.add (local.get $bws) (i32.const 16)))
            (br $blocks)))
        (local.set $end (i32.add (local.get $ks) (i32.shl (i32.load offset=4 (local.get $counts)) (i32.const 4))))
        (block $foursDone
          (loop $fours
            (br_if $foursDone (i32.gt_u (i32.add (local.get $ks) (i32.const 64)) (local.get $end)))
            (local.set $q (i64.load offset=0 (local.get $ks)))
            (local.set $r (i64.load offset=8 (local.get $ks)))
            (local.set $g0 (v128.load32_zero (i32.wrap_i64 (local.get $q))))
            (local.set $g0 (v128.load32_lane 1 (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32))) (local.get $g0)))
            (local.set $g0 (v128.load32_lane 2 (i32.wrap_i64 (local.get $r)) (local.get $g0)))
            (local.set $g0 (v128.load32_lane 3 (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))) (local.get $g0)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load offset=0 (local.get $ws)) (local.get $g0))))
            (local.set $q (i64.load offset=16 (local.get $ks)))
            (local.set $r (i64.load offset=24 (local.get $ks)))
            (local.set $g1 (v128.load32_zero (i32.wrap_i64 (local.get $q))))
            (local.set $g1 (v128.load32_lane 1 (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32))) (local.get $g1)))
            (local.set $g1 (v128.load32_lane 2 (i32.wrap_i64 (local.get $r)) (local.get $g1)))
            (local.set $g1 (v128.load32_lane 3 (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))) (local.get $g1)))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $ws)) (local.get $g1))))
            (local.set $q (i64.load offset=32 (local.get $ks)))
            (local.set $r (i64.load offset=40 (local.get $ks)))
            (local.set $g2 (v128.load32_zero (i32.wrap_i64 (local.get $q))))
            (local.set $g2 (v128.load32_lane 1 (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32))) (local.get $g2)))
            (local.set $g2 (v128.load32_lane 2 (i32.wrap_i64 (local.get $r)) (local.get $g2)))
            (local.set $g2 (v128.load32_lane 3 (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))) (local.get $g2)))
            (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $ws)) (local.get $g2))))
            (local.set $q (i64.load offset=48 (local.get $ks)))
            (local.set $r (i64.load offset=56 (local.get $ks)))
            (local.set $g3 (v128.load32_zero (i32.wrap_i64 (local.get $q))))
            (local.set $g3 (v128.load32_lane 1 (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32))) (local.get $g3)))
            (local.set $g3 (v128.load32_lane 2 (i32.wrap_i64 (local.get $r)) (local.get $g3)))
            (local.set $g3 (v128.load32_lane 3 (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))) (local.get $g3)))
            (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $ws)) (local.get $g3))))
            (local.set $ks (i32.add (local.get $ks) (i32.const 64)))
            (local.set $ws (i32.add (local.get $ws) (i32.const 64)))
            (br $fours)))
        (block $stepsDone
          (loop $step
            (br_if $stepsDone (i32.ge_u (local.get $ks) (local.get $end)))
            (local.set $q (i64.load offset=0 (local.get $ks)))
            (local.set $r (i64.load offset=8 (local.get $ks)))
            (local.set $g0 (v128.load32_zero (i32.wrap_i64 (local.get $q))))
            (local.set $g0 (v128.load32_lane 1 (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32))) (local.get $g0)))
            (local.set $g0 (v128.load32_lane 2 (i32.wrap_i64 (local.get $r)) (local.get $g0)))
            (local.set $g0 (v128.load32_lane 3 (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32))) (local.get $g0)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load offset=0 (local.get $ws)) (local.get $g0))))
            (local.set $ks (i32.add (local.get $ks) (i32.const 16)))
            (local.set $ws (i32.add (local.get $ws) (i32.const 16)))
            (br $step)))
        (local.set $z (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
        (if (local.get $bias)
          (then
            (local.set $b (v128.load32_zero (i32.add (local.get $bias) (i32.load (local.get $pp)))))
            (local.set $b (v128.load32_lane 1 (i32.add (local.get $bias) (i32.load offset=4 (local.get $pp))) (local.get $b)))
            (local.set $b (v128.load32_lane 2 (i32.add (local.get $bias) (i32.load offset=8 (local.get $pp))) (local.get $b)))
            (local.set $b (v128.load32_lane 3 (i32.add (local.get $bias) (i32.load offset=12 (local.get $pp))) (local.get $b)))
            (local.set $z (f32x4.add (local.get $z) (local.get $b)))))
        (local.set $z (f32x4.min (f32x4.max (local.get $z) (local.get $vlo)) (local.get $vhi)))
        (local.set $z (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (f32.store (i32.add (local.get $out) (i32.load offset=12 (local.get $pp))) (f32x4.extract_lane 3 (local.get $z)))
        (f32.store (i32.add (local.get $out) (i32.load offset=8 (local.get $pp))) (f32x4.extract_lane 2 (local.get $z)))
        (f32.store (i32.add (local.get $out) (i32.load offset=4 (local.get $pp))) (f32x4.extract_lane 1 (local.get $z)))
        (f32.store (i32.add (local.get $out) (i32.load offset=0 (local.get $pp))) (f32x4.extract_lane 0 (local.get $z)))
        (local.set $pp (i32.add (local.get $pp) (i32.const 16)))
        (local.set $counts (i32.add (local.get $counts) (i32.const 8)))
        (br $group))))

  ;; One row, [1, 4]-blocked form: for each group g of 4 channels, blocks of (k, 4 weights). Four
  ;; blocks at a time into four accumulators, their addresses read two at a time.
  (func (export "spmvBlocked") (param $groups i32) (param $counts i32) (param $ks i32) (param $ws i32)
      (param $bias i32) (param $lo f32) (param $hi f32) (param $out i32)
    (local $g i32) (local $end i32) (local $q i64) (local $r i64)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $vlo v128) (local $vhi v128) (local $vnan v128) (local $z v128)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $vnan (f32x4.splat (call $nanTo (local.get $lo))))
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $end (i32.add (local.get $ks)
            (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2))))
        (local.set $s0 (v128.const i32x4 0 0 0 0))
        (local.set $s1 (v128.const i32x4 0 0 0 0))
        (local.set $s2 (v128.const i32x4 0 0 0 0))
        (local.set $s3 (v128.const i32x4 0 0 0 0))
        (block $listDone
          (loop $list
            (br_if $listDone (i32.ge_u (local.get $ks) (local.get $end)))
            (local.set $q (i64.load (local.get $ks)))
            (local.set $r (i64.load offset=8 (local.get $ks)))
            (local.set $s0 (f32x4.add (local.get $s0) (f32x4.mul (v128.load offset=0 (local.get $ws))
                (v128.load32_splat (i32.wrap_i64 (local.get $q))))))
            (local.set $s1 (f32x4.add (local.get $s1) (f32x4.mul (v128.load offset=16 (local.get $ws))
                (v128.load32_splat (i32.wrap_i64 (i64.shr_u (local.get $q) (i64.const 32)))))))
            (local.set $s2 (f32x4.add (local.get $s2) (f32x4.mul (v128.load offset=32 (local.get $ws))
                (v128.load32_splat (i32.wrap_i64 (local.get $r))))))
            (local.set $s3 (f32x4.add (local.get $s3) (f32x4.mul (v128.load offset=48 (local.get $ws))
                (v128.load32_splat (i32.wrap_i64 (i64.shr_u (local.get $r) (i64.const 32)))))))
            (local.set $ks (i32.add (local.get $ks) (i32.const 16)))
            (local.set $ws (i32.add (local.get $ws) (i32.const 64)))
            (br $list)))
        (local.set $s0 (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))
        (if (local.get $bias)
          (then (local.set $s0 (f32x4.add (local.get $s0)
              (v128.load (i32.add (local.get $bias) (i32.shl (local.get $g) (i32.const 4))))))))
        (local.set $z (f32x4.min (f32x4.max (local.get $s0) (local.get $vlo)) (local.get $vhi)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $g) (i32.const 4)))
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $group))))

  ;; One tile of 16 rows: out[j * 16 + r] = clamp(bias[j] + sum of w * xt[k * 16 + r]); `$xt` is the
;; tile's address minus 16 * xbuf.
  (func (export "spmm16") (param $xt i32) (param $n i32) (param $counts i32) (param $ks i32) (param $ws i32)
      (param $bias i32) (param $lo f32) (param $hi f32) (param $out i32)
    (local $j i32) (local $end i32) (local $p i32) (local $w v128) (local $b v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $vlo v128) (local $vhi v128) (local $vnan v128) (local $z v128)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $vnan (f32x4.splat (call $nanTo (local.get $lo))))
    (block $channelsDone
      (loop $channel
        (br_if $channelsDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $end (i32.add (local.get $ks)
            (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 2))))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (if (local.get $bias)
          (then (local.set $b (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
        (local.set $a0 (local.get $b)) (local.set $a1 (local.get $b))
        (local.set $a2 (local.get $b)) (local.set $a3 (local.get $b))
        (block $listDone
          (loop $list
            (br_if $listDone (i32.ge_u (local.get $ks) (local.get $end)))
            (local.set $p (i32.add (local.get $xt) (i32.shl (i32.load (local.get $ks)) (i32.const 4))))
            (local.set $w (v128.load32_splat (local.get $ws)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $w) (v128.load (local.get $p)))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $w) (v128.load offset=16 (local.get $p)))))
            (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $w) (v128.load offset=32 (local.get $p)))))
            (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $w) (v128.load offset=48 (local.get $p)))))
            (local.set $ks (i32.add (local.get $ks) (i32.const 4)))
            (local.set $ws (i32.add (local.get $ws) (i32.const 4)))
            (br $list)))
        (local.set $z (f32x4.min (f32x4.max (local.get $a0) (local.get $vlo)) (local.get $vhi)))
        (v128.store (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $a1) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=16 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $a2) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=32 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $a3) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=48 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $channel))))

  ;; One tile of 4 rows: out[j * 4 + r] = clamp(bias[j] + sum of w * xt[k * 4 + r]).
  (func (export "spmm4") (param $xt i32) (param $n i32) (param $counts i32) (param $ks i32) (param $ws i32)
      (param $bias i32) (param $lo f32) (param $hi f32) (param $out i32)
    (local $j i32) (local $end i32) (local $a0 v128) (local $a1 v128) (local $vlo v128) (local $vhi v128) (local $vnan v128) (local $z v128)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $vnan (f32x4.splat (call $nanTo (local.get $lo))))
    (block $channelsDone
      (loop $channel
        (br_if $channelsDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $end (i32.add (local.get $ks)
            (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $j) (i32.const 2)))) (i32.const 2))))
        (local.set $a0 (v128.const i32x4 0 0 0 0))
        (if (local.get $bias)
          (then (local.set $a0 (v128.load32_splat (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2)))))))
        (local.set $a1 (v128.const i32x4 0 0 0 0))
        (block $listDone
          (loop $list
            (br_if $listDone (i32.ge_u (local.get $ks) (local.get $end)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load32_splat (local.get $ws))
                (v128.load (i32.add (local.get $xt) (i32.shl (i32.load (local.get $ks)) (i32.const 2)))))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load32_splat offset=4 (local.get $ws))
                (v128.load (i32.add (local.get $xt) (i32.shl (i32.load offset=4 (local.get $ks)) (i32.const 2)))))))
            (local.set $ks (i32.add (local.get $ks) (i32.const 8)))
            (local.set $ws (i32.add (local.get $ws) (i32.const 8)))
            (br $list)))
        (local.set $z (f32x4.min (f32x4.max (f32x4.add (local.get $a0) (local.get $a1)) (local.get $vlo)) (local.get $vhi)))
        (v128.store (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $out (i32.add (local.get $out) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $channel))))

  ;; One tile of 8 rows, [1, 4]-blocked form: each block (k, w0..w3) feeds 4 channels from one
  ;; load of 8 activations. out[(4g + c) * 8 + r].
  (func (export "spmm8Blocked") (param $xt i32) (param $groups i32) (param $counts i32) (param $ks i32) (param $ws i32)
      (param $bias i32) (param $lo f32) (param $hi f32) (param $out i32)
    (local $g i32) (local $end i32) (local $p i32) (local $w v128) (local $x0 v128) (local $x1 v128) (local $s v128)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $c0 v128) (local $c1 v128) (local $d0 v128) (local $d1 v128) (local $vlo v128) (local $vhi v128) (local $vnan v128) (local $z v128)
    (local.set $vlo (f32x4.splat (local.get $lo)))
    (local.set $vhi (f32x4.splat (local.get $hi)))
    (local.set $vnan (f32x4.splat (call $nanTo (local.get $lo))))
    (block $groupsDone
      (loop $group
        (br_if $groupsDone (i32.ge_u (local.get $g) (local.get $groups)))
        (local.set $end (i32.add (local.get $ks)
            (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $g) (i32.const 2)))) (i32.const 2))))
        (local.set $w (v128.const i32x4 0 0 0 0))
        (if (local.get $bias)
          (then (local.set $w (v128.load (i32.add (local.get $bias) (i32.shl (local.get $g) (i32.const 4)))))))
        (local.set $a0 (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w) (local.get $w)))
        (local.set $b0 (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w) (local.get $w)))
        (local.set $c0 (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w) (local.get $w)))
        (local.set $d0 (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w) (local.get $w)))
        (local.set $a1 (local.get $a0)) (local.set $b1 (local.get $b0))
        (local.set $c1 (local.get $c0)) (local.set $d1 (local.get $d0))
        (block $listDone
          (loop $list
            (br_if $listDone (i32.ge_u (local.get $ks) (local.get $end)))
            (local.set $p (i32.add (local.get $xt) (i32.shl (i32.load (local.get $ks)) (i32.const 3))))
            (local.set $x0 (v128.load (local.get $p)))
            (local.set $x1 (v128.load offset=16 (local.get $p)))
            (local.set $w (v128.load (local.get $ws)))
            (local.set $s (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $w) (local.get $w)))
            (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $x0))))
            (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $x1))))
            (local.set $s (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $w) (local.get $w)))
            (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $s) (local.get $x0))))
            (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $s) (local.get $x1))))
            (local.set $s (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $w) (local.get $w)))
            (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $s) (local.get $x0))))
            (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $s) (local.get $x1))))
            (local.set $s (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $w) (local.get $w)))
            (local.set $d0 (f32x4.add (local.get $d0) (f32x4.mul (local.get $s) (local.get $x0))))
            (local.set $d1 (f32x4.add (local.get $d1) (f32x4.mul (local.get $s) (local.get $x1))))
            (local.set $ks (i32.add (local.get $ks) (i32.const 4)))
            (local.set $ws (i32.add (local.get $ws) (i32.const 16)))
            (br $list)))
        (local.set $z (f32x4.min (f32x4.max (local.get $a0) (local.get $vlo)) (local.get $vhi)))
        (v128.store (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $a1) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=16 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $b0) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=32 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $b1) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=48 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $c0) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=64 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $c1) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=80 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $d0) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=96 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $z (f32x4.min (f32x4.max (local.get $d1) (local.get $vlo)) (local.get $vhi)))
        (v128.store offset=112 (local.get $out)
            (v128.bitselect (local.get $z) (local.get $vnan) (f32x4.eq (local.get $z) (local.get $z))))
        (local.set $out (i32.add (local.get $out) (i32.const 128)))
        (local.set $g (i32.add (local.get $g) (i32.const 1)))
        (br $group))))
)
