/**
 * The list of mask kinds, and the one place where a wrapper's options choose
 * its kind. Adding a kind: one file in this folder implementing
 * {@link MaskKindDefinition}, and one line in `MASK_KINDS` (its options are
 * checked in pruning_params.ts).
 */
import type {ResolvedMaskParams} from '../pruning_params';
import {blockKind} from './block';
import {channelsKind} from './channels';
import {globalKind} from './global';
import {mByNKind} from './m_by_n';
import {magnitudeKind} from './magnitude';
import type {GroupKind, MaskKind, MaskKindDefinition} from './mask_kind';

/** Every kind, the first whose options are set winning (magnitude, the default, last). */
const MASK_KINDS: readonly MaskKindDefinition[] = [mByNKind, channelsKind, globalKind, blockKind, magnitudeKind];

/** The group kinds (cut for a whole model), in the order UpdatePruningStep checks and advances them. */
export const MASK_GROUPS: readonly GroupKind[] = MASK_KINDS.flatMap((kind) => (kind.group ? [kind.group] : []));

/** The mask kind of a wrapper with these (checked) options. */
export function chooseMaskKind(options: ResolvedMaskParams): MaskKind {
  return MASK_KINDS.find((kind) => kind.selects(options))!.create(options);
}
