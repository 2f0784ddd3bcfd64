import { importSuite } from '../helpers/crud-suite-import.js';
import { featuresSuite } from '../helpers/crud-suite-features.js';
import { inputSuite } from '../helpers/crud-suite-input.js';
import { coreSuite } from '../helpers/crud-suite-core.js';
import { mongoStore } from '../helpers/crud-stores.js';

coreSuite(mongoStore);
inputSuite(mongoStore);
featuresSuite(mongoStore);
importSuite(mongoStore);
