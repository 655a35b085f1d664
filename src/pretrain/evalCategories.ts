/**
 * The fixed prompt list of the base-model evaluation: object classes people personalize with DreamBooth (dog,
 * cat, teapot, backpack, sneaker, teddy bear, …) and other common ones, each with the dataset images that show it.
 */
export interface EvalCategory {
  readonly label: string;
  readonly prompt: string;
  /** Dataset entry names (exact, lower case) that show this category. */
  readonly names: readonly string[];
}

const c = (label: string, prompt: string, ...names: string[]): EvalCategory => ({ label, prompt, names });

export const EVAL_CATEGORIES: readonly EvalCategory[] = [
  c('dog', 'a photo of a dog', 'dog', 'dog face', 'guide dog', 'service dog'),
  c('cat', 'a photo of a cat', 'cat', 'cat face', 'black cat'),
  c('teapot', 'a photo of a teapot', 'teapot'),
  c('backpack', 'a photo of a backpack', 'backpack', 'school satchel'),
  c('sneaker', 'a photo of a running shoe', 'running shoe', 'athletic shoe'),
  c('teddy bear', 'a photo of a teddy bear', 'teddy bear'),
  c('robot', 'a photo of a robot', 'robot', 'robot face'),
  c('glasses', 'a photo of glasses', 'glasses', 'eyeglasses'),
  c('clock', 'a photo of a clock', 'mantelpiece clock', 'alarm clock'),
  c('boot', 'a photo of a hiking boot', 'hiking boot', 'womans boot', 'womans boots'),
  c('candle', 'a photo of a candle', 'candle'),
  c('bowl', 'a photo of a bowl with spoon', 'bowl with spoon'),
  c('apple', 'a photo of a red apple', 'red apple'),
  c('banana', 'a photo of a banana', 'banana'),
  c('pizza', 'a photo of a pizza', 'pizza', 'slice of pizza'),
  c('rocket', 'a photo of a rocket', 'rocket'),
  c('tree', 'a photo of a deciduous tree', 'deciduous tree'),
  c('house', 'a photo of a house', 'house', 'house building'),
  c('umbrella', 'a photo of an umbrella', 'umbrella'),
  c('guitar', 'a photo of a guitar', 'guitar'),
  c('bicycle', 'a photo of a bicycle', 'bicycle'),
  c('fish', 'a photo of a fish', 'fish'),
  c('penguin', 'a photo of a penguin', 'penguin'),
  c('elephant', 'a photo of an elephant', 'elephant'),
  c('ghost', 'a photo of a ghost', 'ghost'),
  c('hamburger', 'a photo of a hamburger', 'hamburger'),
  c('strawberry', 'a photo of a strawberry', 'strawberry'),
  c('snowman', 'a photo of a snowman', 'snowman', 'snowman without snow'),
  c('cactus', 'a photo of a cactus', 'cactus'),
  c('crown', 'a photo of a crown', 'crown'),
];
