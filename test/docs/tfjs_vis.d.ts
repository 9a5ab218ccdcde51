// tfjs-vis is not a dependency of this package: its calls in the docs are not type-checked.
declare module '@tensorflow/tfjs-vis';
