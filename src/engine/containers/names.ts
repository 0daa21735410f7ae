import { randomInt } from 'node:crypto';
import { InvalidArgument } from '../../errdefs/index.js';

// Docker's rule (daemon/names.go): a name is a letter or digit followed by letters, digits, _ . -
const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Strips a leading '/' and validates; InvalidArgument with docker's wording. */
export function validateContainerName(name: string): string {
  if (!VALID_NAME.test(name)) {
    throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
  return name.replace(/^\//, '');
}

// A short list in the spirit of docker's namesgenerator: adjective_scientist.
const ADJECTIVES = [
  'admiring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming',
  'clever', 'cool', 'compassionate', 'competent', 'confident', 'dazzling', 'determined', 'eager', 'ecstatic',
  'elastic', 'elegant', 'epic', 'exciting', 'fervent', 'festive', 'focused', 'friendly', 'funny', 'gallant',
  'gifted', 'goofy', 'gracious', 'happy', 'hopeful', 'inspiring', 'jolly', 'keen', 'kind', 'laughing',
  'loving', 'lucid', 'magical', 'modest', 'musing', 'nifty', 'nostalgic', 'objective', 'optimistic',
  'peaceful', 'pensive', 'practical', 'quirky', 'quizzical', 'relaxed', 'romantic', 'serene', 'sharp',
  'silly', 'sleepy', 'stoic', 'strange', 'sweet', 'tender', 'trusting', 'upbeat', 'vibrant', 'vigilant',
  'wizardly', 'wonderful', 'youthful', 'zealous', 'zen',
];
const SURNAMES = [
  'agnesi', 'albattani', 'archimedes', 'babbage', 'bardeen', 'bell', 'bohr', 'booth', 'borg', 'bose',
  'brahmagupta', 'cannon', 'curie', 'darwin', 'dijkstra', 'einstein', 'euclid', 'euler', 'fermat', 'feynman',
  'franklin', 'galileo', 'gauss', 'goldberg', 'hamilton', 'hawking', 'hopper', 'hypatia', 'jennings',
  'johnson', 'kepler', 'knuth', 'kowalevski', 'lamarr', 'leakey', 'lovelace', 'maxwell', 'mccarthy',
  'meitner', 'mendel', 'mirzakhani', 'morse', 'newton', 'noether', 'pascal', 'pasteur', 'poincare',
  'ramanujan', 'ritchie', 'sammet', 'shannon', 'shockley', 'tesla', 'thompson', 'torvalds', 'turing',
  'wiles', 'wozniak', 'wright', 'yalow', 'yonath',
];

export function generateContainerName(taken: (name: string) => boolean): string {
  for (let attempt = 0; ; attempt++) {
    const base = `${ADJECTIVES[randomInt(ADJECTIVES.length)]}_${SURNAMES[randomInt(SURNAMES.length)]}`;
    const name = attempt < 10 ? base : `${base}${randomInt(10)}`;
    if (!taken(name)) return name;
  }
}
