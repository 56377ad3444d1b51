/** The all-reduce algorithms `topology.collective` can name. */
export const COLLECTIVE_CHOICES = ['ring', 'tree', 'double-tree', 'recursive-doubling', 'halving-doubling', 'hierarchical', '2d-ring', 'auto'] as const;
export type CollectiveChoice = (typeof COLLECTIVE_CHOICES)[number];
/** The concrete algorithms `auto` chooses among. */
export type CollectiveKind = Exclude<CollectiveChoice, 'auto'>;
