import { importSuite } from '../helpers/crud-suite-import.js';
import { featuresSuite } from '../helpers/crud-suite-features.js';
import { inputSuite } from '../helpers/crud-suite-input.js';
import { coreSuite } from '../helpers/crud-suite-core.js';
import { embeddedStore } from '../helpers/crud-stores.js';

coreSuite(embeddedStore);
inputSuite(embeddedStore);
featuresSuite(embeddedStore);
importSuite(embeddedStore);
