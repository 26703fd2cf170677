export * from './operation';
export * from './registry';
export * from './declared-fields';
export * from './recorded-work';
export * from './mapping-facts';
