/**
 * The short-code word list (docs/design/short-codes.md, part 1): 2048 English words written for sfs,
 * so each word carries exactly 11 bits. Every word is 3–8 lower-case ASCII letters; the list is
 * sorted, has no duplicates, no word is a prefix of another, and the first four letters of a word
 * identify it (so a future autocompletion can finish a word after four keys). Words with a common
 * homophone or a British/American spelling variant were left out, so a word read aloud has one
 * spelling. Changing a single word changes every code: the hash below pins the list, and
 * code_test.ts checks it and the properties above.
 */

/** SHA-256 of the words joined by "\n" with a final "\n" (UTF-8), lower-case hex. */
export const CODE_WORDS_SHA256 = "c985d0c2516bc9b2e7909863c6b884fb1f69a0763859b3a751da2d0eaac6ee09";

/** The 2048 code words, sorted. */
export const CODE_WORDS: readonly string[] = Object.freeze(
  `
abacus abbey able absorb academy accept account achieve acid acorn acoustic acre acrobat active
actor adapt address adjust admire adobe adopt advance advice aerial affair agent agile agree aim
airline airport airy alarm album alcove alert algebra alias alike alive alley allow almond aloha
alpaca alpha alpine altitude amaze amber amigo amount ample amulet amuse anchor ancient angle
ankle answer antelope anthem antique antler anvil apex appear apple apricot apron aqua arbor
arcade arch arctic area arena armchair aroma arrange arrive arrow artist ashore ask aspen
asphalt aspire asset asteroid athlete atlas atom attach attend attic auburn audio author autumn
avatar avenue aviator avocado awake award awesome awning axe axis azure baboon backpack bacon
badger bagel bagpipe bait bakery balance balcony ballad balmy bamboo banana bandana bang
banister banjo bank banner banquet barber barge barista bark barley barn barrel basement basil
basket bathe baton battery bay beach bead beagle beam beanbag bearing beauty beaver bedrock
bedtime beehive beetle begin behave believe bell belong belt bench bend beret bet bicycle bind
bingo biology biplane birch bird birthday biscuit bison bistro blanket blazer bleach blend blimp
blink bliss blizzard bloom blossom blouse blow bluebird bluff blush boast boat bobcat bobsled
bold bolt bonanza bonfire bongo bonnet bonsai bonus book boost boot border bottle bounce bowl
boxer bracket brain branch brass brave bread breeze brick bridge bright brim bring brisk broad
bronze brook broth brownie brush bubbly bucket buddy budget buffalo buggy bugle build bulb bull
bumble bump bundle bungalow bunker bunny burger burrow burst bush busy butter cabbage cabin
cable cactus cadet cake calculus calendar call calm camel campus canary candy canoe canteen
canyon cape capsule captain caramel carbon cardinal care cargo caribou carnival carol carpet
carrot cart carve cascade cashew cassette castle casual catapult catch catfish cause cave cedar
celery century chair chalk chamber change chapter charge chase chat check cheddar cheese chef
chemist cherry chess chew chicken chimp chipmunk chirp chisel chive choose chop chorus chowder
chrome chubby chuckle cider cinema cinnamon circus citizen citrus city civic clam clap clarinet
classic clay clean clever cliff climb clinic clipper clock close cloud clove clumsy coach coast
coat cobalt cobbler cockpit cocoa code coffee coin cold collie column comb comet comfy command
compass concert condor confetti connect consider context cookie coop copilot copper copy coral
cord corn corridor cosmos costume cotton couch cougar count court cove cowboy coyote crab
cracker cradle crafty crane crater crawl crayon cream credit crescent crew cricket crimson crisp
cross crow cruiser crumpet crush crystal cube cubicle cuckoo cucumber cuddle culture cupboard
cupcake cure curious curl curry curtain cushion custard cute cycle cypress dahlia dainty dairy
daisy dancer dare daring dash date dawn daybreak daydream dazzle deal decade decent decide deck
decoy deep degree deliver delta deluxe demo denim dense depend derby describe design desk detail
detour develop dewdrop diagram diamond diary dice diesel digest digit dime dimple diner dingo
dinner diploma dipper disco dish distant diver divide dock dodo dog doll dolphin domain dome
domino donkey doodle door dove downhill dozen drag drama drawer dream dress drift drink drive
drizzle drop drum dry duck duet dumbbell dumpling dune dusk dusty duty eager eagle early earmuff
earn earth easel east easy eat ebony echo eclipse economy edge editor educate eel effect effort
eggplant egret eighteen elastic elbow elder elect elegant element elephant elevator elite elk
embark ember emblem embrace emerge employ empty emu encore endless energy engine enjoy enlist
enrich enter envelope epic episode equal equip eraser errand escape espresso essay estate eureka
event everyday exact examine exchange excite excuse exhibit exist exit exotic expand expect
explain express eyebrow eyelash fabulous fact faculty fairway faithful falcon fame family famous
fancy farewell farm fashion fasten faucet feast feather fedora felt fence fennel fern ferret
festive fetch fiber fiction fiddle field fierce fiesta fifteen figure fill film finale finch
find fine finish firefly firm fishbowl fitness five fix fizzy flag flame flannel flap flask
fleece flicker flight flint flipper float flock flora flow fluent fluffy flurry flute flyer
flywheel foam focus fog fold foliage folklore follow fond food footpath forage forest forgive
fork form fort forum fossil found fox fragrant frame frank freckle free fresh fridge friend
fritter frog frolic frontier frost fruit fudge fuel funnel fusion future fuzzy gadget gain
galaxy gallon gamma garage garden garlic garnet gate gather gaze gearbox gecko gem genius genre
gentle gerbil gesture getaway giant gibbon gifted giggle ginger giraffe give glacier glade glass
glaze glen glide glimpse glitter globe glory glossy glove glow glue goalie goat goblet goggles
golden golf gondola good goose gopher gorge gossip gown grab graceful gradual grammar grand
grape grass grateful gravy graze greet griddle griffin grin grip groovy grotto ground grove grow
guard guava guess guide guild guitar gulf gull gulp gumbo gumdrop guppy gust gym habit haiku
hail hairpin halfway halibut hallway halo hamlet hammer hamper hamster hand hang happen hardy
harmony harp harvest hasty hatch haven hawk haze head health hearty heath hedge helium hello
helmet help herbal heritage heron herring hexagon hiccup hickory hidden highway hike hill hinge
hint hippo history hive hobby hockey hoist holiday holly homework honey honk hook hope hopper
horizon hornet hose hotcake hotel hound house hover hubcap huddle hug hula humble humid hundred
hurry husky hut hybrid hydrant ibis icebox icicle icon icy ideal idiom igloo ignite iguana
illusion image impala impress inch include income index indigo indoor infinity inform ink inlet
inning input insect inside inspire instant intact invent invite invoice iris iron island item
ivory ivy jackal jade jaguar jamboree jar jasmine jay jazz jeep jelly jersey jetty jewel jigsaw
jingle job jockey jogger join joke jolly journal jovial joyful jubilee judo juggle juice jukebox
jumbo jump jungle juniper kale kangaroo karate kayak kazoo keen keep kelp kennel kestrel ketchup
kettle keyboard keynote kick kidney kimono kind kinetic kingdom kiosk kitchen kite kitten kiwi
koala label lace lacrosse ladder ladle ladybug lagoon lake lamb lamp land lantern lapel laptop
large lark lasagna latch laugh launch laurel lava lavender lavish lawn layer leaf leap learn
legal legend leisure lemming lemon lemur lend lens lentil leopard leotard lesson letter level
liberty library lid lift light likely lilac lily lime limit linen lion liquid listen little live
lizard load lobby lobster local locket lodge lofty logbook logic lollipop look lottery lotus
loud love loyal lucid lucky lullaby lumber lunar lunchbox lush lyric macaw maestro magic magma
magnet magpie mailbox mainland major make mallet mammal manatee mandolin mango manner mansion
mantis manual maple marathon marble march margin marina marker marlin marsh marvel marzipan
mascot mask mason match matter maximum meadow measure meatball mechanic medley mellow melon melt
memo mend mentor menu mercury merit mermaid mesa message meteor method metric midday midnight
midway mighty mild milk mill mimic mindful mine mink minnow minute mirage mirror mission misty
mitten mixture mocha modern moist molasses mole moment monarch mongoose monkey monsoon monument
mood moon moped mosaic moss motel moth motion motto mountain mouse mouth move mud muffin mug
mulberry mule munch mural museum mushroom musician mustard mystic myth nacho napkin nation
navigate navy nearby nebula necktie nectar needle neon nephew nest network newborn newt nibble
nickel nifty nimble nineteen noble nod noisy nomad noodle nook noon normal northern note notice
novel nozzle nudge nugget number nursery nutmeg nylon oak oasis oatmeal obey object oboe ocean
octave octopus offer office oil olive omega onion onward opal open opera option oracle orange
orbit orchid order oregano organ origin ornate osprey ostrich otter outback outcome outdoor
outer outfit outing outlook output oval ovation oven overall owl owner oxygen oyster pack paddle
padlock pageant pagoda paint palace palm palomino pancake panda panel panorama pantry papaya
paprika parade parcel pardon park parody parrot parsley partner pass pasta patch patent pathway
patio patrol pattern pavement pavilion payday peach peanut pearl pebble pecan peekaboo peel
pelican pencil pendant penguin penny peony pepper perch perform period permit petite phase
phrase piano piccolo pickle picnic picture pigeon piglet pigment pike pilgrim pillow pilot pinch
pine pinto pinwheel pioneer pipe piston pita pitch pivot pixel pizza plaid planet plate play
plaza pleasant pledge plenty plot plucky plug plump plywood pocket podcast podium poem poet
point polar polish polka pollen poncho pond pony poodle popcorn poppy porch porpoise porridge
port possum poster potato potion potluck potter pouch powder praise prank prawn precise prefer
premium prepare press pretty price pride prime prince prism prize problem process product
profile project prompt proof prose protect proud prune puddle puffin pulley puma pump punch
puppy pure purple purse push puzzle pyramid quack quail quality quantum quartz query quest quick
quiet quilt quirky quiver quota rabbit raccoon race racket radar radish raft railway rainbow
raisin rake rally ramble ranch random ranger rapids rare rating raven ravioli reach ready realm
reason recess recipe record recycle redwood reef refill reflex refuge regal rehearse reindeer
rejoice relax relic reload remedy remind remote renew rental repair repeat reply report rescue
resort respect result return rhino ribbon rice rich riddle ride ridge rigid rinse ripe ripple
rise ritual rival river roadster roam roar roast robe robin robust rock rodeo romance rooster
rope rosebud roster rosy rotate round rowboat royal ruby rudder rugged ruler rumba rumor runway
rural rush rustic sack saddle safari safe saffron saga sage sailor salad salmon salsa salty
salute samba sample sand sapling sardine satchel satin saucer sausage savanna save savvy scale
scan scarf scatter scenic scheme school science scissors scone scoop scope score scout screw
script scroll scrub scuba sculpt seafood seal search season second secret sector seed seek
seesaw segment select sense sentence sequel serene series serve sesame session settle shadow
shake shamrock shape shark shave shed sheep shelf shield shimmer shine ship shiver shoelace shop
shore shout shovel show shrimp shrug shuffle sidewalk siesta sign silent silky silo silver
simple sincere singer sip siren sitcom sizzle skate sketch skill skip skirt skunk skydive
skyline skyward slate sled sleep slender slide slim slipper slogan slope sloth smart smile
smooth snack snail snake snappy sniff snorkel snow snug soapbox soccer soda sofa soft soil solar
solid solstice solve sombrero sonar sonic sonnet soprano sorbet sort soup soybean spacious
spaniel spark spatula speak speckle speedy spell sphere spicy spider spin spirit splash splendid
spoke sponsor spoon spot spread spring sprout spruce squash squeeze squid stable stack stadium
stairway stallion stamp stand star statue stay steady steer stencil step stew sticky stingray
stir stone stool stop stork stove strategy stream stroll strudel studio sturdy style subject
subtle suburb subway succeed sugar suggest suitcase summit sunbeam sundial sunlit sunny sunrise
sunset super supply surf surprise sushi swallow swamp swan sweater swift swim swing switch
swivel symphony syrup system table tackle taco tactic tadpole taffy tailor talent talk tall
tamale tame tandem tangy tapestry tapioca target tartan taste tavern teabag teach teamwork
teapot tease telegram tell temper tender tennis tent terrier texture thank theme theory thick
thimble thin thirteen thistle thought thread thrive thunder tiara ticket tidy tie tiger timber
tinker tinsel tiny tiptoe titan toast toddler toffee tofu token tomato toolbox topaz topic torch
tornado tortoise toss total totem toucan tough tour towel town toy trace trade traffic trail
tranquil trapeze travel treat treetop trek trend tricycle trim trinket trio tripod triumph
trivia trolley trombone trophy trot trout true truffle trumpet trust try tuba tugboat tulip
tumble tuna tundra tune tunnel turban turkey turnip turtle tutor tutu tuxedo tweed twelve twig
twilight twin twist type typhoon umbrella uncle unfold unicorn union unique unison unite
universe unlock unpack untie upbeat upcoming update uplift upstream uptown upward urban useful
utopia vacation vacuum valid valley value valve vanish vaporize varnish vase vast vault vector
vegan velvet vendor venture venue veranda verb verse vessel vibe vibrant victory video view
villa vine vintage vinyl violet virtue visit visor vista vital vivid vocal volcano voltage
volume voyage waddle wafer waffle wagon waiter wake walk wallet walnut walrus wand want warbler
warden warm wash wasp watch water wave wavy waxwing wealth weasel weaver web wedge weekend
welcome wetland wharf whisk wicker widget wiggle wild willow wind wingspan wink winter wisdom
wise wish witty wizard wobble wok wolf wombat wonder wooden word work world worthy wrench yak
yard yarn yawn yearbook yell yeti yield yodel young yummy zany zeal zebra zenith zeppelin zero
zest zigzag zinc zinnia zipper zone zoom zucchini
`.trim().split(/\s+/),
);
