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
