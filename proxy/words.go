package proxy

// Word lists for class codes: 128 short, common English words each, easy to
// say aloud and to spell, separated by spaces.

// codeAdjectives are the first word of a class code.
const codeAdjectives = "" +
	"amber brave bright busy calm clever cool cosmic crisp curly daring " +
	"dusty eager early easy fancy fast fierce fluffy fresh friendly frosty " +
	"funny gentle giant glad golden grand green happy hasty honest humble " +
	"icy jolly juicy kind lazy lemon little lively lucky magic merry " +
	"mighty misty modern noble odd olive orange patient plain polite proud " +
	"purple quick quiet rapid rare ready red rich rocky rosy round royal " +
	"rusty salty sandy shiny shy silent silver simple sleepy slow smart " +
	"smooth snowy soft solid spicy steady stormy strong sunny super sweet " +
	"swift tall tame tidy tiny tough tricky true vivid warm wavy wild " +
	"windy wise witty young zany zesty brisk cheery cozy dapper fuzzy " +
	"handy hardy jazzy keen mellow neat nimble peppy plucky snappy sturdy " +
	"bold breezy chilly dreamy sparkly "

// codeNouns are the second word of a class code.
const codeNouns = "" +
	"otter badger beaver bison camel cobra condor coyote crane dingo " +
	"dolphin donkey eagle falcon ferret finch gecko gibbon goose gopher " +
	"heron hippo husky ibis iguana jackal jaguar koala lemur leopard lion " +
	"llama lobster lynx magpie marmot meerkat mole moose newt ocelot " +
	"octopus orca osprey owl panda panther parrot pelican penguin pigeon " +
	"puffin puma python quail rabbit raven robin salmon seal shark sloth " +
	"snail sparrow squid stork swan tapir tiger toucan trout turtle walrus " +
	"weasel whale wolf wombat yak zebra acorn anchor apple banjo basil " +
	"birch cactus canyon cedar cherry cloud comet coral daisy delta desert " +
	"ember fern fig forest galaxy garden glacier harbor island jungle " +
	"kettle lagoon lantern maple meadow mango meteor mint moon nectar " +
	"oasis ocean orbit pebble pepper pine planet pumpkin rainbow river " +
	"rocket sapling spruce "
