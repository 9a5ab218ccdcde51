;; The two passes of a magnitude mask update, run on the memory of
;; tfjs-backend-wasm (imported as env.memory; every pointer below is a byte
;; offset into it). Weights are float32. |w| is compared through its bit
;; pattern with the sign cleared: that orders like the magnitude and is a
;; non-negative i32, so signed compares are exact.
;;
;; Pointers are unsigned, as wasm addresses are: one above 2 GiB may arrive as
;; a negative i32 and addresses the same byte. They are only ever added to,
;; never compared: the loops compare a byte offset from the start of their
;; arrays (below 4n, n < 2^30), so no sum wraps, even for an array that ends at
;; the top of a 4 GiB memory.
;;
;; Neither pass branches on the data: on weights that change between calls a
;; branch taken for a few percent of them costs more than the rest of the pass.
;;
;; The source of magnitude_module.ts: `npm run build:wasm` compiles this file
;; with wabt and writes the bytes there (a test checks that the two agree).
(module
  (import "env" "memory" (memory 0))

  ;; Set by $bracket: how many |w| are above `hi`, and the largest |w| pattern
  ;; (above 0x7f7fffff when a weight is infinite or NaN).
  (global $above (mut i32) (i32.const 0))
  (global $maxBits (mut i32) (i32.const 0))

  (func (export "above") (result i32) (global.get $above))
  (func (export "maxBits") (result i32) (global.get $maxBits))

  ;; Fills the 256 bytes at `table` with the 16 shuffles $bracket compacts
  ;; with: entry m moves the i32 lanes set in the 4-bit mask m to the front,
  ;; in order (the other bytes are don't-cares).
  (func (export "initTable") (param $table i32)
    (local $m i32) (local $lane i32) (local $to i32) (local $byte i32)
    (loop $masks
      (local.set $lane (i32.const 0))
      (local.set $to (i32.add (local.get $table) (i32.shl (local.get $m) (i32.const 4))))
      (loop $lanes
        (if (i32.and (local.get $m) (i32.shl (i32.const 1) (local.get $lane)))
          (then
            (local.set $byte (i32.const 0))
            (loop $bytes
              (i32.store8 (local.get $to)
                  (i32.add (i32.shl (local.get $lane) (i32.const 2)) (local.get $byte)))
              (local.set $to (i32.add (local.get $to) (i32.const 1)))
              (local.set $byte (i32.add (local.get $byte) (i32.const 1)))
              (br_if $bytes (i32.lt_u (local.get $byte) (i32.const 4))))))
        (local.set $lane (i32.add (local.get $lane) (i32.const 1)))
        (br_if $lanes (i32.lt_u (local.get $lane) (i32.const 4))))
      (local.set $m (i32.add (local.get $m) (i32.const 1)))
      (br_if $masks (i32.lt_u (local.get $m) (i32.const 16)))))

  (func $laneSum (param $v v128) (result i32)
    (i32.add (i32.add (i32x4.extract_lane 0 (local.get $v)) (i32x4.extract_lane 1 (local.get $v)))
             (i32.add (i32x4.extract_lane 2 (local.get $v)) (i32x4.extract_lane 3 (local.get $v)))))

  (func $laneMax (param $v v128) (result i32)
    (local.set $v (i32x4.max_s (local.get $v)
        (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
    (local.set $v (i32x4.max_s (local.get $v)
        (i8x16.shuffle 4 5 6 7 0 1 2 3 12 13 14 15 8 9 10 11 (local.get $v) (local.get $v))))
    (i32x4.extract_lane 0 (local.get $v)))

  ;; bracket(w, n, lo, hi, out, table) -> count
  ;; Over the n floats at w, with b = bits(|w[i]|): sets $above to #(b > hi)
  ;; and $maxBits to max(b), and stores every b with lo < b <= hi at out (i32s,
  ;; in index order); returns how many it stored. lo = -1 means no lower
  ;; bound. `out` needs room for n + 4 values (each vector stores 4 lanes and
  ;; advances past the ones in range); `table` is what initTable wrote.
  (func (export "bracket")
      (param $w i32) (param $n i32) (param $lo i32) (param $hi i32) (param $out i32) (param $table i32)
      (result i32)
    (local $i i32) (local $p i32) (local $end i32) (local $count i32) (local $lanes i32) (local $s i32)
    (local $b0 v128) (local $above0 v128) (local $in0 v128)
    (local $b1 v128) (local $above1 v128) (local $in1 v128)
    (local $vlo v128) (local $vhi v128) (local $absMask v128) (local $accAbove v128) (local $accMax v128)
    (local.set $vlo (i32x4.splat (local.get $lo)))
    (local.set $vhi (i32x4.splat (local.get $hi)))
    (local.set $absMask (i32x4.splat (i32.const 0x7fffffff)))
    ;; $i is a byte offset into w; eight values per iteration.
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $p (i32.add (local.get $w) (local.get $i)))
        (local.set $b0 (v128.and (v128.load (local.get $p)) (local.get $absMask)))
        (local.set $b1 (v128.and (v128.load offset=16 (local.get $p)) (local.get $absMask)))
        (local.set $above0 (i32x4.gt_s (local.get $b0) (local.get $vhi)))
        (local.set $above1 (i32x4.gt_s (local.get $b1) (local.get $vhi)))
        ;; Lanes are -1 where true: the sum counts down.
        (local.set $accAbove
            (i32x4.add (local.get $accAbove) (i32x4.add (local.get $above0) (local.get $above1))))
        (local.set $accMax
            (i32x4.max_s (local.get $accMax) (i32x4.max_s (local.get $b0) (local.get $b1))))
        (local.set $in0 (v128.andnot (i32x4.gt_s (local.get $b0) (local.get $vlo)) (local.get $above0)))
        (local.set $in1 (v128.andnot (i32x4.gt_s (local.get $b1) (local.get $vlo)) (local.get $above1)))
        ;; Compaction: shuffle the lanes in range to the front, store all four, count the ones in range.
        (local.set $lanes (i32x4.bitmask (local.get $in0)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
            (i8x16.swizzle (local.get $b0)
                (v128.load (i32.add (local.get $table) (i32.shl (local.get $lanes) (i32.const 4))))))
        (local.set $count (i32.add (local.get $count) (i32.popcnt (local.get $lanes))))
        (local.set $lanes (i32x4.bitmask (local.get $in1)))
        (v128.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2)))
            (i8x16.swizzle (local.get $b1)
                (v128.load (i32.add (local.get $table) (i32.shl (local.get $lanes) (i32.const 4))))))
        (local.set $count (i32.add (local.get $count) (i32.popcnt (local.get $lanes))))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $vectors)))
    (global.set $above (i32.sub (i32.const 0) (call $laneSum (local.get $accAbove))))
    (global.set $maxBits (call $laneMax (local.get $accMax)))
    ;; The last n mod 8 values.
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $scalars
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (i32.and (i32.load (i32.add (local.get $w) (local.get $i))) (i32.const 0x7fffffff)))
        (if (i32.gt_s (local.get $s) (global.get $maxBits)) (then (global.set $maxBits (local.get $s))))
        (if (i32.gt_s (local.get $s) (local.get $hi))
          (then (global.set $above (i32.add (global.get $above) (i32.const 1))))
          (else
            (if (i32.gt_s (local.get $s) (local.get $lo))
              (then
                (i32.store (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))) (local.get $s))
                (local.set $count (i32.add (local.get $count) (i32.const 1)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scalars)))
    (local.get $count))

  ;; cut(w, n, threshold, mask, masked)
  ;; With b = bits(|w[i]|), for the n floats at w:
  ;;   mask[i] = b >= threshold ? 1.0 : 0.0,   masked[i] = b >= threshold ? w[i] : +0.0
  ;; (`threshold` is a float32 pattern with the sign clear).
  (func (export "cut")
      (param $w i32) (param $n i32) (param $threshold i32) (param $mask i32) (param $masked i32)
    (local $i i32) (local $end i32) (local $v0 v128) (local $keep0 v128) (local $v1 v128) (local $keep1 v128)
    (local $vt v128) (local $one v128) (local $absMask v128) (local $s i32) (local $k i32)
    (local.set $vt (i32x4.splat (local.get $threshold)))
    (local.set $one (i32x4.splat (i32.const 0x3f800000)))
    (local.set $absMask (i32x4.splat (i32.const 0x7fffffff)))
    ;; $i is a byte offset, the same in the three arrays; eight values per iteration.
    (local.set $end (i32.shl (i32.and (local.get $n) (i32.const -8)) (i32.const 2)))
    (block $vectorsDone
      (loop $vectors
        (br_if $vectorsDone (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $v0 (v128.load (i32.add (local.get $w) (local.get $i))))
        (local.set $v1 (v128.load offset=16 (i32.add (local.get $w) (local.get $i))))
        (local.set $keep0 (i32x4.ge_s (v128.and (local.get $v0) (local.get $absMask)) (local.get $vt)))
        (local.set $keep1 (i32x4.ge_s (v128.and (local.get $v1) (local.get $absMask)) (local.get $vt)))
        (v128.store (i32.add (local.get $mask) (local.get $i)) (v128.and (local.get $keep0) (local.get $one)))
        (v128.store offset=16 (i32.add (local.get $mask) (local.get $i)) (v128.and (local.get $keep1) (local.get $one)))
        (v128.store (i32.add (local.get $masked) (local.get $i)) (v128.and (local.get $keep0) (local.get $v0)))
        (v128.store offset=16 (i32.add (local.get $masked) (local.get $i)) (v128.and (local.get $keep1) (local.get $v1)))
        (local.set $i (i32.add (local.get $i) (i32.const 32)))
        (br $vectors)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (block $done
      (loop $scalars
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $s (i32.load (i32.add (local.get $w) (local.get $i))))
        ;; 0 or -1.
        (local.set $k (i32.sub (i32.const 0)
            (i32.ge_s (i32.and (local.get $s) (i32.const 0x7fffffff)) (local.get $threshold))))
        (i32.store (i32.add (local.get $mask) (local.get $i)) (i32.and (local.get $k) (i32.const 0x3f800000)))
        (i32.store (i32.add (local.get $masked) (local.get $i)) (i32.and (local.get $k) (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $scalars))))
)
