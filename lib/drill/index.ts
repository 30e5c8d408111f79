/** The release drill, as a library: read a template, run scenarios, render the results. */
export * from './cloudwatch';
export * from './drill';
export * from './expression';
export * from './render';
export * from './simulate';
export * from './template';
export * from './traffic';
export * from './share-rollback';
export * from './assigned-release';
