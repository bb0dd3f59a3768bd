// Data loader: the shipped model catalog (verbatim config.json + source) for the pages; models are built
// in the browser with modelFromHfConfig, the same way a pasted config is.
import { catalogConfig, catalogEntries } from "../../loaders/catalog.js";

const rows = catalogEntries().map((e) => ({ ...e, config: catalogConfig(e) }));
process.stdout.write(JSON.stringify(rows));
