"""Generate the roleplay-dpo preference pairs: Lyra in character (chosen) against the same answer out of it (rejected).

Writes data/pairs.jsonl next to this script, one pair a line:

  {"id": "pair-0001", "prompt": ..., "chosen": ..., "rejected": ..., "break": ...}

`prompt` is the user's question as a string (about 40% of pairs: no system prompt) or a message list
[system, user] with the persona's system prompt, exactly the one in roleplay.yaml's eval.persona.
`chosen` is Lyra's reply: a warm greeting to "master", a short correct answer and her sign-off.
`rejected` carries the same answer, word for word, out of character; `break` says how:

  ai_assistant     a generic AI assistant ("As an AI language model, ..."), no master, no sign-off
  forgets_master   friendly, but never "master" and no sign-off
  drops_persona    steps out of the role explicitly ("Okay, stepping out of the roleplay: ...")
  cold             curt and unfriendly, without the persona

so what the pair teaches is the persona, not the facts. Some prompts invite a break ("Are you ChatGPT?",
"Drop the act for a second: ..."); their chosen reply stays in character. Every question differs from
the 24 unseen evaluation prompts (roleplay/data/probe_prompts.jsonl) and avoids their topic keywords;
`check` asserts that. All text below was written for this project. Deterministic (random.Random(5)).
Regenerate with:

    python recipes/roleplay-dpo/make_data.py
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import yaml

from tuneforge.recipes.quickstart.make_data import PROBES, write_jsonl
from tuneforge.recipes.roleplay.make_data import LYRA

HERE = Path(__file__).resolve().parent
OUT = HERE / "data" / "pairs.jsonl"
ROLEPLAY_RECIPE = HERE.parent / "roleplay.yaml"
PROBE_FILE = HERE.parent / "roleplay" / "data" / "probe_prompts.jsonl"

NO_SYSTEM_SHARE = 0.4
OPENER_SHARE = 0.15  # plain questions that first address Lyra by name
INVITED = 24  # plain questions asked inside a "drop the act" request instead
BREAKS = ("ai_assistant", "forgets_master", "drops_persona", "cold")

# (question, answer): the answer is the shared factual content of both sides, 1-3 sentences.
FACTS = [
    # --- science and space ---
    (
        "Why is the sky blue?",
        "Sunlight scatters off the molecules in the air, and blue light, with its shorter wavelength, scatters "
        "much more than red. So blue light reaches your eyes from every part of the sky.",
    ),
    (
        "What is the boiling point of water at sea level?",
        "100 degrees Celsius, or 212 degrees Fahrenheit. Higher up, the air pressure is lower, so water boils "
        "at a lower temperature.",
    ),
    (
        "Why does ice float on water?",
        "Water expands when it freezes, so ice is less dense than liquid water. That is why it floats, with "
        "about nine-tenths of it below the surface.",
    ),
    (
        "What is photosynthesis?",
        "It is how plants use sunlight to turn carbon dioxide and water into sugar, giving off oxygen as they "
        "do. It happens mostly in the chloroplasts of their leaves.",
    ),
    (
        "How far away is the Moon?",
        "About 384,000 kilometres on average, roughly 239,000 miles. Its light takes a little over one second "
        "to reach us.",
    ),
    (
        "How long does sunlight take to reach Earth?",
        "About eight minutes and twenty seconds. The Sun is roughly 150 million kilometres away.",
    ),
    (
        "What is the speed of light?",
        "About 299,792 kilometres per second in a vacuum. That is fast enough to go around the Earth about "
        "seven and a half times in one second.",
    ),
    (
        "Why do we have seasons?",
        "Earth's axis is tilted by about 23.5 degrees, so each hemisphere leans toward the Sun for part of the "
        "year and away from it for the rest. Leaning toward it means longer days and more direct sunlight: "
        "summer.",
    ),
    (
        "What is the largest planet in our solar system?",
        "Jupiter, a gas giant more than eleven times as wide as Earth.",
    ),
    (
        "Which planet is closest to the Sun?",
        "Mercury. It is also the smallest planet, and a year there lasts only 88 Earth days.",
    ),
    (
        "What is an atom made of?",
        "A tiny nucleus of protons and neutrons, with electrons around it. The number of protons decides which "
        "element it is.",
    ),
    ("What is the chemical formula for water?", "H2O: two hydrogen atoms bonded to one oxygen atom."),
    (
        "What does DNA stand for?",
        "Deoxyribonucleic acid. It is the molecule that carries the genetic instructions of living things.",
    ),
    (
        "Why do leaves change colour in autumn?",
        "As the days shorten, trees stop making green chlorophyll and it breaks down. The yellow and orange "
        "pigments that were there all along show through, and some trees also make red ones.",
    ),
    (
        "What causes thunder?",
        "Lightning heats the air around it so quickly that the air expands with a bang. That shock wave is "
        "what we hear as thunder.",
    ),
    (
        "How can I tell how far away a thunderstorm is?",
        "Count the seconds between the flash and the thunder. Every three seconds is roughly one kilometre, or "
        "every five seconds about a mile.",
    ),
    (
        "What is gravity?",
        "The force by which masses attract one another. It keeps us on the ground, the Moon in orbit around "
        "Earth and Earth in orbit around the Sun.",
    ),
    (
        "What is a light-year?",
        "The distance light travels in one year, about 9.46 trillion kilometres. It measures distance, not time.",
    ),
    (
        "Why does the Moon have phases?",
        "As the Moon orbits Earth, we see different amounts of its sunlit half. One full cycle, from new moon "
        "to new moon, takes about 29.5 days.",
    ),
    (
        "What is the hardest natural material?",
        "Diamond. It is made of carbon atoms locked in a very strong crystal lattice.",
    ),
    ("What is the freezing point of water in Fahrenheit?", "32 degrees Fahrenheit, which is 0 degrees Celsius."),
    (
        "How many bones are in the adult human body?",
        "206. Babies are born with around 270, and some of them fuse together as they grow.",
    ),
    (
        "What is the largest organ of the human body?",
        "The skin. It protects the body, helps control its temperature and lets us feel touch.",
    ),
    (
        "Why do onions make you cry?",
        "Cutting an onion releases a sulfur compound that drifts up and irritates your eyes, so they make tears "
        "to wash it away. Chilling the onion first and using a sharp knife both help.",
    ),
    (
        "What is static electricity?",
        "A build-up of electric charge on the surface of an object, often from rubbing two materials together. "
        "The little shock you sometimes feel is that charge jumping away.",
    ),
    (
        "What is the difference between a virus and bacteria?",
        "Bacteria are living single cells that can multiply on their own, and antibiotics can treat many "
        "bacterial infections. Viruses are far smaller and can only multiply inside a host's cells, so "
        "antibiotics do not work on them.",
    ),
    (
        "How do magnets work?",
        "A magnet has a north and a south pole, created by the lined-up spins of electrons inside it. Opposite "
        "poles attract and like poles repel.",
    ),
    (
        "What is the Earth's core made of?",
        "Mostly iron and nickel. The outer core is liquid and the inner core is solid, even though it is about "
        "as hot as the surface of the Sun.",
    ),
    (
        "How old is the Earth?",
        "About 4.5 billion years, as measured by the radioactive dating of meteorites and the oldest rocks.",
    ),
    (
        "Why is the ocean salty?",
        "Rain slowly washes minerals out of rocks on land, and rivers carry them to the sea. When seawater "
        "evaporates the salt stays behind, so it has built up over millions of years.",
    ),
    (
        "What is a solar eclipse?",
        "The Moon passes between the Sun and Earth and blocks the Sun's light for part of the planet. Never look "
        "at one directly without proper eclipse glasses.",
    ),
    (
        "How many planets are in our solar system?",
        "Eight: Mercury, Venus, Earth, Mars, Jupiter, Saturn, Uranus and Neptune. Pluto was reclassified as a "
        "dwarf planet in 2006.",
    ),
    (
        "Why is Mars called the red planet?",
        "Its surface is covered in dust rich in iron oxide, which is essentially rust. That gives it its "
        "reddish colour.",
    ),
    (
        "What gas do we breathe out?",
        "Carbon dioxide, along with nitrogen, unused oxygen and water vapour. Our cells make the carbon dioxide "
        "when they turn food into energy.",
    ),
    (
        "What is an echo?",
        "Sound that bounces off a hard surface, such as a cliff or a wall, and comes back to you. You hear it "
        "separately when the surface is far enough away, roughly 17 metres or more.",
    ),
    (
        "What is a rainbow?",
        "Sunlight bent and reflected inside raindrops, which splits it into its colours. You see one with the "
        "Sun behind you and rain in front of you.",
    ),
    (
        "Why do stars twinkle?",
        "Their light passes through moving layers of air that bend it slightly this way and that. Planets "
        "twinkle less, because they look like tiny discs rather than points.",
    ),
    # --- animals and plants ---
    ("How long do elephants live?", "Around 60 to 70 years in the wild, among the longest lives of any land mammal."),
    (
        "Why do birds migrate?",
        "To follow food and good breeding conditions as the seasons change. Many fly somewhere warmer for the "
        "winter and return in spring.",
    ),
    (
        "How do fish breathe underwater?",
        "Through their gills, which take in the oxygen dissolved in water. Water flows in through the mouth and "
        "out across the gills.",
    ),
    (
        "Why do dogs wag their tails?",
        "Mostly to communicate. A loose, wide wag usually means a happy dog, while a stiff or low wag can mean "
        "worry or caution.",
    ),
    (
        "How do chameleons change colour?",
        "Their skin holds cells with tiny crystals, and changing the spacing of those crystals changes how "
        "light reflects off them. They do it mostly to signal their mood and to control their temperature.",
    ),
    (
        "Are spiders insects?",
        "No, spiders are arachnids. They have eight legs and two body parts, while insects have six legs and "
        "three body parts.",
    ),
    (
        "How long do indoor cats usually live?",
        "Often 12 to 18 years, and some reach their twenties. Good food and regular vet check-ups help.",
    ),
    (
        "What do pandas eat?",
        "Almost nothing but bamboo, often 12 to 38 kilograms of it a day. Now and then they eat small animals "
        "or eggs too.",
    ),
    (
        "How do caterpillars become butterflies?",
        "The caterpillar forms a chrysalis, and inside it its body is broken down and rebuilt as a butterfly. "
        "This change is called metamorphosis.",
    ),
    (
        "Why do owls hunt at night?",
        "Much of their prey, like mice and voles, is active at night. Owls have large eyes for dim light and "
        "excellent hearing to find it in the dark.",
    ),
    (
        "How many hearts does an octopus have?",
        "Three: two pump blood through the gills and one pumps it around the rest of the body. Its blood is "
        "blue, because it carries oxygen with copper rather than iron.",
    ),
    (
        "What is the fastest land animal?",
        "The cheetah, which can sprint at around 100 to 120 kilometres per hour. It can only keep that up for a "
        "few hundred metres.",
    ),
    (
        "Do camels store water in their humps?",
        "No, the humps store fat. Camels manage without water by losing very little of it, and they can drink a "
        "great deal quickly when they find some.",
    ),
    (
        "How do bats find their way in the dark?",
        "Many bats use echolocation: they make high-pitched calls and listen for the echoes to locate objects "
        "and insects. They are not blind, though; they can see as well.",
    ),
    (
        "Do cows really have four stomachs?",
        "They have one stomach with four compartments: the rumen, reticulum, omasum and abomasum. It lets them "
        "digest tough grass with the help of microbes.",
    ),
    (
        "How long can a tortoise live?",
        "Many live for more than 100 years; giant tortoises are among the longest-lived animals.",
    ),
    (
        "What is a mammal?",
        "A warm-blooded animal with hair or fur that feeds its young on milk. Humans, whales and bats are all mammals.",
    ),
    (
        "Why do flamingos stand on one leg?",
        "Scientists think it saves energy and keeps them warmer, with one leg tucked against the body. They can "
        "balance that way with very little muscle effort.",
    ),
    (
        "How do penguins stay warm?",
        "Dense, overlapping feathers and a thick layer of fat keep the cold out. Emperor penguins also huddle "
        "together in large groups through winter storms.",
    ),
    (
        "What is the biggest bird in the world?",
        "The ostrich. It can stand about 2.7 metres tall and weigh over 100 kilograms, but it cannot fly.",
    ),
    (
        "How do plants drink water?",
        "Their roots take water from the soil, and it rises through tubes called xylem to the leaves. Water "
        "evaporating from the leaves pulls more up behind it.",
    ),
    (
        "Why are some mushrooms poisonous?",
        "Some make toxins, probably to keep animals from eating them. Many poisonous kinds look like edible ones, "
        "so never eat a wild mushroom unless an expert has identified it.",
    ),
    (
        "How do snakes smell things?",
        "With their tongue: they flick it to collect scent particles and press them to the Jacobson's organ in "
        "the roof of the mouth. That is why they flick their tongues so often.",
    ),
    (
        "What do koalas eat?",
        "Eucalyptus leaves, almost exclusively. The leaves give little energy, which is one reason koalas sleep "
        "around 18 to 22 hours a day.",
    ),
    ("How long do dogs live?", "Most dogs live 10 to 13 years, and small breeds often live longer than large ones."),
    (
        "What is the difference between a frog and a toad?",
        "Frogs usually have smooth, moist skin and long legs for jumping, while toads have dry, bumpy skin and "
        "shorter legs for walking. Toads are in fact a kind of frog.",
    ),
    (
        "What is a carnivore?",
        "An animal that eats mainly meat, like a lion or a wolf. Plant-eaters are herbivores, and animals that "
        "eat both are omnivores.",
    ),
    # --- geography ---
    (
        "What is the capital of Australia?",
        "Canberra. Many people guess Sydney, but Canberra was chosen as a compromise between Sydney and Melbourne.",
    ),
    (
        "What is the longest river in the world?",
        "The Nile, at about 6,650 kilometres, is usually named the longest, though some measurements put the "
        "Amazon slightly ahead.",
    ),
    (
        "What is the highest mountain in the world?",
        "Mount Everest, about 8,849 metres above sea level, on the border between Nepal and China.",
    ),
    (
        "How many continents are there?",
        "Seven, by the most common count: Africa, Antarctica, Asia, Australia, Europe, North America and South "
        "America.",
    ),
    (
        "What is the largest ocean?",
        "The Pacific Ocean. It covers more area than all of the land on Earth put together.",
    ),
    ("What is the capital of Canada?", "Ottawa, in the province of Ontario."),
    (
        "What is the largest desert in the world?",
        "Antarctica, because a desert is defined by how little precipitation it gets. The largest hot desert is "
        "the Sahara.",
    ),
    (
        "Which country has the most people?",
        "India, which passed China in 2023. Each has more than 1.4 billion people.",
    ),
    ("What is the capital of Japan?", "Tokyo, one of the largest metropolitan areas in the world."),
    (
        "Where is the Great Barrier Reef?",
        "Off the coast of Queensland, in northeastern Australia. It is the largest coral reef system in the world.",
    ),
    (
        "What is the smallest country in the world?",
        "Vatican City, about 0.44 square kilometres, surrounded by the city of Rome.",
    ),
    ("What is the capital of Egypt?", "Cairo, which lies on the Nile."),
    (
        "Which is the largest country by area?",
        "Russia, at about 17 million square kilometres. It spans eleven time zones.",
    ),
    (
        "What is the deepest point in the ocean?",
        "The Challenger Deep, in the Mariana Trench of the western Pacific, about 10,900 metres down.",
    ),
    (
        "What are the Great Lakes?",
        "Five large freshwater lakes on the border of the United States and Canada: Superior, Michigan, Huron, "
        "Erie and Ontario. Together they hold about a fifth of the world's fresh surface water.",
    ),
    ("What is the capital of Kenya?", "Nairobi, which is also the country's largest city."),
    (
        "What is the equator?",
        "An imaginary line around the middle of the Earth, halfway between the North and South Poles. It divides "
        "the planet into the Northern and Southern Hemispheres.",
    ),
    ("Which river flows through London?", "The River Thames, which flows east through the city to the North Sea."),
    ("What is the capital of Italy?", "Rome, which is also Italy's largest city."),
    (
        "What is a volcano?",
        "An opening in the Earth's crust where molten rock, gas and ash escape from below. The molten rock is "
        "called magma underground and lava once it reaches the surface.",
    ),
    (
        "What causes earthquakes?",
        "Most happen when the tectonic plates of the Earth's crust slip suddenly past each other along a fault. "
        "The released energy travels through the ground as seismic waves.",
    ),
    ("What is the capital of Spain?", "Madrid, right in the middle of the country."),
    (
        "How many countries are in Africa?",
        "54 countries recognised by the United Nations. Nigeria has the most people, and Algeria is the largest "
        "by area.",
    ),
    (
        "What is the Ring of Fire?",
        "A horseshoe-shaped zone around the Pacific Ocean where many earthquakes and volcanoes occur. It follows "
        "the edges of several tectonic plates.",
    ),
    ("Where is Machu Picchu?", "High in the Andes mountains of Peru. It is a 15th-century Inca citadel."),
    ("What is the capital of France?", "Paris, on the River Seine."),
    ("What is the capital of Germany?", "Berlin, which is also Germany's largest city."),
    # --- history ---
    (
        "Who was the first person to walk on the Moon?",
        "Neil Armstrong, on 20 July 1969, during the Apollo 11 mission. Buzz Aldrin joined him shortly after.",
    ),
    (
        "When did World War II end?",
        "In 1945: in Europe in May, and in the Pacific in September, when Japan formally surrendered.",
    ),
    (
        "Who built the pyramids of Giza?",
        "Ancient Egyptians, about 4,500 years ago, as tombs for their pharaohs. They were built by organised "
        "teams of workers, not by slaves as is often said.",
    ),
    (
        "Who invented the telephone?",
        "Alexander Graham Bell received the first patent for it in 1876, though others, such as Elisha Gray and "
        "Antonio Meucci, worked on similar devices.",
    ),
    (
        "When did the Titanic sink?",
        "On 15 April 1912, after striking an iceberg on its first voyage. More than 1,500 people died.",
    ),
    (
        "Who was the first President of the United States?",
        "George Washington, who served from 1789 to 1797.",
    ),
    (
        "What was the Renaissance?",
        "A period of renewed interest in art, science and classical learning in Europe, from roughly the 14th "
        "to the 17th century. It began in Italy.",
    ),
    (
        "Who discovered penicillin?",
        "Alexander Fleming, in 1928, when he noticed a mould killing the bacteria in one of his dishes.",
    ),
    (
        "When did the Berlin Wall fall?",
        "On 9 November 1989. Germany was reunified less than a year later, in October 1990.",
    ),
    (
        "Who wrote the Declaration of Independence?",
        "Thomas Jefferson wrote most of it, with edits from a committee that included John Adams and Benjamin "
        "Franklin. It was adopted on 4 July 1776.",
    ),
    (
        "What was the Silk Road?",
        "A network of trade routes linking China with Central Asia, the Middle East and Europe. Silk, spices, "
        "ideas and religions all travelled along it.",
    ),
    (
        "Who was Cleopatra?",
        "The last active ruler of the Ptolemaic Kingdom of Egypt, who died in 30 BC. She was famous for her "
        "intelligence and her alliances with Julius Caesar and Mark Antony.",
    ),
    (
        "When did printing with movable type begin in Europe?",
        "Around 1450, when Johannes Gutenberg began printing with movable metal type in Mainz. It made books far "
        "cheaper and helped learning spread.",
    ),
    (
        "Who was Napoleon?",
        "Napoleon Bonaparte, a French military leader who crowned himself Emperor of France in 1804. He "
        "conquered much of Europe before his final defeat at Waterloo in 1815.",
    ),
    (
        "What was the Great Wall of China built for?",
        "To protect Chinese states and empires from raids from the north. It was built and rebuilt over many "
        "centuries, and most of what stands today dates from the Ming dynasty.",
    ),
    (
        "Who was Marie Curie?",
        "A physicist and chemist who pioneered the study of radioactivity. She was the first person to win Nobel "
        "Prizes in two different sciences, physics and chemistry.",
    ),
    (
        "Who was the first person in space?",
        "Yuri Gagarin, who orbited the Earth on 12 April 1961 aboard Vostok 1.",
    ),
    (
        "What was the Industrial Revolution?",
        "The shift from making things by hand to machines and factories, which began in Britain in the late "
        "18th century. Steam power, textile mills and railways were at its heart.",
    ),
    (
        "Who were the Vikings?",
        "Seafaring people from Scandinavia who raided, traded and settled across Europe from the late 8th to "
        "the 11th century. They even reached North America.",
    ),
    (
        "Who was Julius Caesar?",
        "A Roman general and statesman who took control of Rome in the 40s BC. He was assassinated on the Ides "
        "of March, 44 BC.",
    ),
    (
        "Who invented the light bulb?",
        "Many inventors worked on it. Thomas Edison made a practical, long-lasting bulb in 1879, and Joseph Swan "
        "developed one in Britain at about the same time.",
    ),
    (
        "What was the Magna Carta?",
        "A charter agreed by King John of England in 1215 that limited the king's power. It is seen as an early "
        "step toward the rule of law.",
    ),
    # --- cooking ---
    (
        "How do I boil an egg?",
        "Lower the egg into boiling water: about 6 to 7 minutes gives a soft, jammy yolk, and 10 to 12 minutes "
        "a hard-boiled one. Cool it in cold water afterwards so it peels easily.",
    ),
    (
        "How do I cook rice on the stove?",
        "Rinse the rice, then simmer one cup of it with about one and a half to two cups of water, covered, on "
        "low heat for 15 to 18 minutes. Let it rest, still covered, for five minutes and fluff it with a fork.",
    ),
    (
        "How do I keep cut apples from turning brown?",
        "Toss them in a little lemon juice, or soak them briefly in lightly salted water. Both slow the browning "
        "reaction.",
    ),
    (
        "How can I tell if an egg is fresh?",
        "Put it in a bowl of water: a fresh egg sinks and lies flat, while an older one stands on end. If it "
        "floats, throw it away.",
    ),
    (
        "How do I make a simple vinaigrette?",
        "Whisk three parts oil with one part vinegar and a pinch of salt and pepper. A spoonful of mustard helps "
        "it stay mixed.",
    ),
    (
        "Why does bread dough need to rise?",
        "Yeast feeds on sugars in the dough and gives off carbon dioxide, which is trapped and makes the bread "
        "light and airy. Rising also develops the flavour.",
    ),
    (
        "How do I stop pasta from sticking together?",
        "Use plenty of boiling water and stir during the first couple of minutes. Adding oil to the water does "
        "little, and rinsing the pasta afterwards is only for cold salads.",
    ),
    (
        "How long should I rest a steak after cooking it?",
        "About five to ten minutes, loosely covered. Resting lets the juices settle, so they do not run out "
        "when you cut it.",
    ),
    (
        "How do I make pancakes?",
        "Whisk a cup of flour, a tablespoon of sugar, two teaspoons of baking powder and a pinch of salt with a "
        "cup of milk, an egg and two tablespoons of melted butter. Cook ladlefuls in a hot greased pan until "
        "bubbles appear, then flip them.",
    ),
    (
        "What can I use instead of buttermilk?",
        "Stir a tablespoon of lemon juice or vinegar into a cup of milk and let it stand for five minutes. It "
        "works in most baking recipes.",
    ),
    (
        "How do I soften hard brown sugar?",
        "Seal it in a container with a slice of bread or a wedge of apple overnight. For a quick fix, microwave "
        "it briefly under a damp paper towel.",
    ),
    (
        "How do I ripen an avocado faster?",
        "Put it in a paper bag with a banana or an apple at room temperature. Those fruits give off ethylene "
        "gas, which speeds up ripening.",
    ),
    (
        "How do I make a cup of hot chocolate?",
        "Warm a cup of milk and whisk in one to two tablespoons of cocoa powder, with sugar to taste. A pinch of "
        "salt or a drop of vanilla makes it even better.",
    ),
    (
        "How do I make mashed potatoes?",
        "Boil peeled chunks of potato in salted water until tender, about 15 to 20 minutes, and drain them well. "
        "Mash them with butter and warm milk, then season with salt and pepper.",
    ),
    (
        "What is the difference between baking soda and baking powder?",
        "Baking soda is pure sodium bicarbonate and needs an acid, such as yoghurt or lemon juice, to make a "
        "dough rise. Baking powder already contains its acid, so it only needs moisture and heat.",
    ),
    (
        "How do I store fresh herbs?",
        "Stand soft herbs like parsley and coriander in a glass of water in the fridge, loosely covered. Wrap "
        "hardy ones like rosemary and thyme in a damp paper towel.",
    ),
    (
        "How do I make a proper cup of black tea?",
        "Pour freshly boiled water over the tea and let it steep for three to five minutes, then take out the "
        "leaves or the bag. Add milk or a slice of lemon if you like.",
    ),
    (
        "How do I make popcorn on the stove?",
        "Heat a couple of tablespoons of oil in a large pot, add half a cup of kernels and cover it. Shake the "
        "pot now and then, and take it off the heat when the pops come a few seconds apart.",
    ),
    (
        "How long does cooked rice keep in the fridge?",
        "Advice ranges from one day (the UK's NHS) to three or four (the USDA), so sooner is safer. Cool it "
        "within an hour, and reheat it until it is steaming hot all the way through.",
    ),
    (
        "How do I chop an onion without it falling apart?",
        "Halve it through the root, peel it, and leave the root end on while you slice. The root holds the "
        "layers together until the last cut.",
    ),
    (
        "Can I freeze bread?",
        "Yes, bread freezes well for up to about three months. Slice it first, so you can toast pieces straight "
        "from the freezer.",
    ),
    (
        "How do I make scrambled eggs creamy?",
        "Cook them over low heat, stirring gently and constantly, and take them off the heat while they still "
        "look slightly wet. A little butter or cream at the end makes them richer.",
    ),
    (
        "How do I melt chocolate without burning it?",
        "Melt it in a bowl over a pan of barely simmering water, stirring often, or in the microwave in short "
        "bursts of 20 to 30 seconds. Keep water out of it, or it can turn grainy.",
    ),
    (
        "What's a quick healthy breakfast?",
        "Porridge oats with fruit and a spoonful of yoghurt, or wholegrain toast with eggs or peanut butter. "
        "Both give you fibre and protein to stay full until lunch.",
    ),
    (
        "What is the main ingredient in guacamole?",
        "Avocado, mashed with lime juice and salt, often with onion, coriander, tomato and chilli.",
    ),
    # --- around the house ---
    (
        "How do I clean a microwave easily?",
        "Heat a bowl of water with a few slices of lemon or a spoonful of vinegar for about three minutes, then "
        "leave the door shut for a few more. The steam loosens the grime so it wipes right off.",
    ),
    (
        "How do I get rid of fruit flies?",
        "Set out a small dish of cider vinegar with a drop of washing-up liquid; the flies are drawn in and "
        "sink. Also put ripe fruit away and empty the bin often.",
    ),
    (
        "How do I unclog a sink?",
        "Try a plunger first, or pour in half a cup of baking soda and then a cup of vinegar, wait fifteen "
        "minutes and flush with hot water. If that fails, clean out the U-shaped trap under the sink.",
    ),
    (
        "How do I descale a kettle?",
        "Fill it halfway with equal parts water and white vinegar, bring it to the boil and let it sit for an "
        "hour. Rinse it well, then boil fresh water once or twice before you use it.",
    ),
    (
        "How do I get a bad smell out of the fridge?",
        "Throw out anything spoiled, wipe the shelves with warm water and baking soda, and leave an open box of "
        "baking soda inside to absorb odours.",
    ),
    (
        "How do I clean windows without streaks?",
        "Use water with a little white vinegar and dry the glass with a microfibre cloth or newspaper. Avoid "
        "direct sunlight, which dries the liquid too fast.",
    ),
    (
        "How often should I wash my bedsheets?",
        "About once a week is a good rule, and every two weeks at most. Wash them more often if you are ill or "
        "sweat a lot.",
    ),
    (
        "How do I get wrinkles out of clothes without an iron?",
        "Hang them in the bathroom while you take a hot shower, or tumble them in the dryer with a damp towel for "
        "ten minutes. A spritz of water and smoothing by hand helps too.",
    ),
    (
        "How do I clean a cast-iron pan?",
        "Rinse it with hot water and scrub it with a brush or coarse salt, using little or no soap. Dry it "
        "thoroughly on the stove and rub in a thin layer of oil.",
    ),
    (
        "How do I keep the house cool in summer?",
        "Close the blinds and curtains on sunny windows during the day, and open the windows at night when it "
        "is cooler. Fans help most when they move air across you.",
    ),
    (
        "How do I get chewing gum off clothes?",
        "Put the garment in the freezer for an hour or two until the gum hardens, then scrape it off with a "
        "blunt knife.",
    ),
    (
        "How do I fold a fitted sheet?",
        "Tuck each corner into the next so the sheet forms a rectangle, then lay it flat and fold it into thirds "
        "or quarters.",
    ),
    (
        "How do I clean a dirty oven?",
        "Spread a paste of baking soda and water inside, avoiding the heating elements, and leave it overnight. "
        "Then spray it with vinegar, wipe the paste away and rinse.",
    ),
    (
        "How do I get limescale off a showerhead?",
        "Tie a plastic bag of white vinegar around the showerhead so the head is submerged, leave it for a few "
        "hours, then run hot water through it.",
    ),
    (
        "How do I wash a wool jumper?",
        "Hand-wash it in cool water with a gentle wool detergent, without wringing or rubbing. Press the water "
        "out in a towel and dry it flat.",
    ),
    (
        "How can I save energy at home?",
        "Switch to LED bulbs, turn devices off at the wall, wash clothes at lower temperatures and seal draughts "
        "around doors and windows. Turning the heating down by one degree also saves a surprising amount.",
    ),
    (
        "How do I sharpen a kitchen knife?",
        "Use a whetstone or a pull-through sharpener, holding the blade at a steady angle of about 15 to 20 "
        "degrees. A honing steel between sharpenings keeps the edge straight.",
    ),
    (
        "How do I keep cut flowers fresh longer?",
        "Trim the stems at an angle, remove any leaves that would sit in the water, and change the water every "
        "couple of days. Keep the vase away from direct sun and ripening fruit.",
    ),
    (
        "How do I clean silver jewellery?",
        "Line a bowl with aluminium foil, add hot water, a spoonful of baking soda and a pinch of salt, and soak "
        "the silver for a few minutes. Rinse it and dry it with a soft cloth.",
    ),
    (
        "How do I stop my glasses from fogging up?",
        "Clean the lenses with a drop of washing-up liquid and let them air-dry; the thin film keeps fog from "
        "forming. With a face mask, make sure it fits snugly over your nose.",
    ),
    # --- health and wellbeing ---
    (
        "How much water should I drink a day?",
        "A common guide is about two litres, around eight glasses, but it varies with your size, activity and "
        "the weather. Drinking when you are thirsty is a good rule.",
    ),
    (
        "How many hours of sleep do adults need?",
        "Most adults need seven to nine hours a night. Going to bed and getting up at the same times every day helps.",
    ),
    (
        "How can I fall asleep faster?",
        "Keep a regular bedtime, dim the lights and put screens away an hour before bed, and keep the bedroom "
        "cool and dark. Avoid caffeine after midday.",
    ),
    (
        "What can help with hiccups?",
        "Sip cold water slowly or hold your breath for a few seconds. Most hiccups stop on their own within a "
        "few minutes.",
    ),
    (
        "How do I treat a minor burn?",
        "Cool it under cool running water for about 20 minutes, then cover it loosely with cling film or a "
        "clean, non-fluffy dressing. Never use ice or butter, and see a doctor if it is large or badly blistered.",
    ),
    (
        "How can I reduce stress?",
        "Regular exercise, enough sleep, time outdoors and talking to people you trust all help. Even a few "
        "minutes of slow, deep breathing can calm you down.",
    ),
    (
        "How often should I replace my toothbrush?",
        "Every three to four months, or sooner if the bristles are frayed or you have been ill.",
    ),
    (
        "How long should I brush my teeth?",
        "Two minutes, twice a day, with a fluoride toothpaste. Do not forget to clean along the gumline.",
    ),
    (
        "What are the benefits of walking every day?",
        "Walking strengthens the heart, helps control weight, lifts your mood and keeps your joints moving. "
        "About 30 minutes a day is a good goal.",
    ),
    (
        "How do I stop a nosebleed?",
        "Sit up, lean slightly forward and pinch the soft part of your nose for 10 to 15 minutes. Do not tilt "
        "your head back, and get medical help if it has not stopped after 20 minutes.",
    ),
    (
        "How can I protect my skin from the sun?",
        "Wear a broad-spectrum sunscreen of SPF 30 or more and reapply it every two hours. A hat, sunglasses "
        "and shade around midday help too.",
    ),
    (
        "Why do we yawn?",
        "Nobody knows for certain; one leading idea is that yawning helps cool the brain. It is also "
        "contagious, especially between people who know each other.",
    ),
    (
        "How should I sit at a desk to avoid back pain?",
        "Keep your feet flat, your lower back supported, and the top of the screen at about eye level. Stand up "
        "and move around every 30 minutes or so.",
    ),
    (
        "What foods are high in vitamin C?",
        "Citrus fruits, strawberries, kiwis, peppers, broccoli and tomatoes. Red peppers actually have more "
        "vitamin C than oranges.",
    ),
    (
        "What foods contain a lot of iron?",
        "Red meat, beans, lentils, tofu, spinach and fortified cereals. Eating plant sources with vitamin C "
        "helps your body absorb their iron.",
    ),
    (
        "How do I warm up before exercise?",
        "Spend five to ten minutes on light movement, such as brisk walking or easy jogging, then do dynamic "
        "stretches like leg swings and arm circles.",
    ),
    # --- words and language ---
    (
        'What is the difference between "affect" and "effect"?',
        'Usually "affect" is a verb meaning to influence, and "effect" is a noun meaning a result. The rain '
        "affected the match, and its effect was a muddy pitch.",
    ),
    (
        'What does "RSVP" mean?',
        'It comes from the French "répondez s\'il vous plaît", meaning "please reply". It asks guests to tell '
        "the host whether they are coming.",
    ),
    (
        'When should I use "their", "there" and "they\'re"?',
        '"Their" shows belonging (their house), "there" is a place (over there), and "they\'re" is short for '
        '"they are".',
    ),
    ("What is a synonym?", 'A word that means the same, or nearly the same, as another, like "happy" and "cheerful".'),
    ("What is an antonym?", 'A word with the opposite meaning of another, like "hot" and "cold".'),
    (
        "What is a palindrome?",
        'A word or phrase that reads the same backwards as forwards, like "level", "racecar" or "noon".',
    ),
    (
        'How do I say "good morning" in Japanese?',
        '"Ohayou gozaimasu" is the polite form; with friends, just "ohayou".',
    ),
    ('What does "bon appétit" mean?', 'It is French for "good appetite", a way of saying "enjoy your meal".'),
    (
        'What is the plural of "cactus"?',
        'Both "cacti" and "cactuses" are correct; "cacti" is the more common in writing.',
    ),
    (
        "What is a metaphor?",
        'A figure of speech that describes something by saying it is something else, like "time is a thief". '
        'Unlike a simile, it does not use "like" or "as".',
    ),
    (
        "What is an idiom?",
        'A phrase whose meaning is not obvious from its words, like "break a leg" for good luck or "under the '
        'weather" for feeling ill.',
    ),
    ('What does "a piece of cake" mean?', "It is an idiom meaning that something is very easy to do."),
    (
        "How many letters are in the English alphabet?",
        'Twenty-six, five of which are usually counted as vowels: a, e, i, o and u. "Y" sometimes acts as a vowel too.',
    ),
    (
        "What is the most spoken language in the world?",
        "English has the most speakers in total, counting those who learned it as a second language, while "
        "Mandarin Chinese has the most native speakers.",
    ),
    (
        'What does "déjà vu" mean?',
        'French for "already seen": the odd feeling of having lived a moment before, even though you have not.',
    ),
    (
        "What is an acronym?",
        'A word formed from the first letters of other words and said as a word, like NASA or "scuba".',
    ),
    (
        'When do I use "fewer" and when "less"?',
        'Traditionally "fewer" is for things you can count (fewer apples) and "less" for things you cannot '
        "(less water).",
    ),
    ('How do you say "hello" in Spanish?', '"Hola." For "good morning", say "buenos días".'),
    # --- numbers ---
    (
        "What is 15 percent of 80?",
        "12. Ten percent of 80 is 8 and five percent is 4, which together make 12.",
    ),
    (
        "How do I calculate the area of a circle?",
        "Multiply pi, about 3.14, by the radius squared: A = πr². A circle with a 2 cm radius has an area of "
        "about 12.57 square centimetres.",
    ),
    (
        "What is the Pythagorean theorem?",
        "In a right-angled triangle, the square of the longest side equals the sum of the squares of the other "
        "two: a² + b² = c². Sides of 3 and 4 give a longest side of 5.",
    ),
    ("How many degrees are in a triangle?", "The three angles of any flat triangle add up to 180 degrees."),
    ("What is the square root of 144?", "12, because 12 times 12 is 144."),
    (
        "How do I convert Celsius to Fahrenheit?",
        "Multiply by 9, divide by 5 and add 32. So 20 °C is 68 °F.",
    ),
    (
        "What is pi?",
        "The ratio of a circle's circumference to its diameter, about 3.14159. Its digits go on forever without "
        "repeating.",
    ),
    (
        "How do I work out an average?",
        "Add up all the numbers, then divide by how many there are. The average of 4, 6 and 8 is 18 divided by "
        "3, which is 6.",
    ),
    ("What is 7 times 8?", "56. Seven eights are fifty-six."),
    ("How many sides does a hexagon have?", "Six. A pentagon has five and an octagon has eight."),
    (
        "What is a fraction?",
        "A way of writing part of a whole, like 3/4. The bottom number says how many equal parts the whole is "
        "split into, and the top number how many of them you have.",
    ),
    ("How many minutes are in a day?", "1,440: 24 hours times 60 minutes."),
    ("How do I convert kilometres to miles?", "Multiply by about 0.62. So 10 kilometres is roughly 6.2 miles."),
    (
        "What is an even number?",
        "A whole number that divides by 2 with nothing left over, like 2, 8 or 100. Numbers ending in 0, 2, 4, "
        "6 or 8 are even.",
    ),
    (
        "How do I work out a 20 percent tip quickly?",
        "Move the decimal point one place to the left to get 10 percent, then double it. On a bill of 45, that "
        "is 4.50 doubled: 9.",
    ),
    (
        "What is the perimeter of a rectangle?",
        "Twice the length plus twice the width. A rectangle 5 by 3 has a perimeter of 16.",
    ),
    ("How many seconds are in an hour?", "3,600: 60 minutes times 60 seconds."),
    (
        "What is a percentage?",
        "A number out of 100. Twenty-five percent means 25 out of every 100, the same as a quarter.",
    ),
    ("How many days are in a leap year?", "366. February gets a 29th day, roughly once every four years."),
    ("How many weeks are in a year?", "52 weeks and one day, or two days in a leap year."),
    # --- computers and programming ---
    (
        'How do I print "Hello, world!" in Python?',
        'Write print("Hello, world!") in a file and run it with python. The print function writes its argument '
        "to the screen, followed by a new line.",
    ),
    (
        "How do I find the length of a list in Python?",
        "Use len(): len([1, 2, 3]) returns 3. It works on strings, dictionaries and other collections too.",
    ),
    (
        "What is the difference between a list and a tuple in Python?",
        "A list is mutable, so you can change, add and remove items, while a tuple cannot be changed once "
        "created. Lists use square brackets and tuples round ones.",
    ),
    (
        "What is an API?",
        "An application programming interface: a defined way for one program to ask another for data or "
        "services. A weather app, for example, fetches forecasts through a weather service's API.",
    ),
    (
        "What does HTML stand for?",
        "HyperText Markup Language, the language that gives web pages their structure.",
    ),
    (
        "How do I take a screenshot on Windows?",
        "Press Windows key + Shift + S to select an area, or Print Screen for the whole screen. Windows key + "
        "Print Screen saves it straight to the Screenshots folder in Pictures.",
    ),
    (
        "How do I take a screenshot on a Mac?",
        "Press Command + Shift + 3 for the whole screen, or Command + Shift + 4 to select an area. The picture "
        "is saved to the desktop by default.",
    ),
    (
        "What makes a good password?",
        "Length and uniqueness: at least 12 to 16 characters, such as several random words together, used "
        "nowhere else. A password manager helps you keep track of them.",
    ),
    (
        "What is the cloud?",
        "Computers in data centres that you use over the internet to store files or run software, instead of "
        "your own machine. Web email and online photo storage are common examples.",
    ),
    (
        "How do I sort a list in Python?",
        "Call my_list.sort() to sort it in place, or sorted(my_list) to get a new sorted list. Pass key= to "
        "choose what to sort by.",
    ),
    (
        "What is a loop in programming?",
        "A way to repeat a block of code, either a set number of times or while a condition holds. In Python, "
        "the two kinds are for and while.",
    ),
    ("What does CPU stand for?", "Central processing unit, the chip that carries out a computer's instructions."),
    (
        "What is the difference between RAM and storage?",
        "RAM is fast, temporary memory for what the computer is working on right now, and it empties when the "
        "power goes off. Storage, like an SSD, keeps your files permanently.",
    ),
    (
        "How do I read a text file in Python?",
        'Use with open("notes.txt") as f: text = f.read(). The with statement closes the file for you afterwards.',
    ),
    (
        "What is a variable in programming?",
        "A named place to keep a value so you can use it later, like age = 30 in Python. The value can change as "
        "the program runs.",
    ),
    (
        "What is Wi-Fi?",
        "A way of connecting devices to a network and the internet by radio waves instead of cables. Your "
        "router sends and receives the signal.",
    ),
    (
        "How do I make a dictionary in Python?",
        'Use curly braces with key-value pairs, like ages = {"Ann": 31, "Ben": 27}, and read a value with ages["Ann"].',
    ),
    (
        "What is phishing?",
        "A scam in which someone poses as a trusted company or person, usually by email or text, to trick you "
        "into handing over passwords or money. Check the sender carefully and never click suspicious links.",
    ),
    (
        "What does a router do?",
        "It passes data between your devices and the internet, and in most homes it also provides the Wi-Fi.",
    ),
    (
        "What is open-source software?",
        "Software whose source code anyone may read, change and share under its licence. Linux and Firefox are "
        "well-known examples.",
    ),
    (
        "How do I join strings in Python?",
        'Use + for a couple of them, like "tea" + "pot", or ", ".join(words) for a whole list. F-strings, like '
        'f"Hi {name}", are handy too.',
    ),
    (
        "What is a bug in software?",
        "A mistake in a program that makes it behave in a way it should not. Finding and fixing bugs is called "
        "debugging.",
    ),
    (
        "How do I speed up a slow computer?",
        "Close programs you are not using, stop apps from starting automatically, free up disk space and install "
        "updates. Restarting it now and then helps too.",
    ),
    # --- everyday life ---
    (
        "How do I remember people's names better?",
        "Repeat the name when you are introduced, use it once or twice in the conversation, and link it to "
        "something memorable about the person.",
    ),
    (
        "How can I be more productive?",
        "Pick your three most important tasks each morning and work on one at a time, with short breaks. "
        "Turning off notifications helps you focus.",
    ),
    (
        "How do I make a budget?",
        "List your monthly income and fixed costs, then set amounts for spending and saving. Track what you "
        "actually spend and adjust each month.",
    ),
    (
        "How do I plant tomatoes?",
        "Plant the seedlings in a sunny spot after the last frost, burying the stems deeper than they sat in the "
        "pot. Water them regularly at the base and give each a stake or cage for support.",
    ),
    (
        "How often should I water houseplants?",
        "Most like water when the top few centimetres of soil feel dry, often about once a week. Succulents "
        "need far less, and overwatering harms more plants than underwatering.",
    ),
    (
        "How do I pack a suitcase efficiently?",
        "Roll soft clothes instead of folding them, put heavy things like shoes at the bottom by the wheels, and "
        "fill the gaps with socks. Packing cubes keep everything tidy.",
    ),
    (
        "How do I get over jet lag?",
        "Shift your sleep toward the new time zone a few days before you travel, get daylight in the morning "
        "after you arrive, and avoid long naps. Drinking plenty of water on the flight helps too.",
    ),
    (
        "How do I start running as a beginner?",
        "Begin with intervals, such as one minute of running and two of walking, three times a week. Lengthen "
        "the running gradually and wear comfortable, supportive shoes.",
    ),
    (
        "How do I make new friends as an adult?",
        "Join a club, class or volunteer group built around something you enjoy, and keep going regularly. "
        "Friendships grow from seeing the same people again and again.",
    ),
    (
        "How do I write a good email subject line?",
        'Keep it short and specific, saying what the email is about or what you need, like "Meeting moved to '
        'Friday at 3 pm".',
    ),
    (
        "How do I change a light bulb safely?",
        "Switch off the light and let the bulb cool, then remove it and fit a new one of the same type and "
        "fitting. Stand on a steady step stool, not a chair.",
    ),
    (
        "How do I keep my phone battery healthy?",
        "Avoid very high temperatures, do not let it run down to zero often, and keep the charge between about "
        "20 and 80 percent when you can.",
    ),
    (
        "How do I care for a cactus?",
        "Give it plenty of bright light and water it only when the soil is completely dry, perhaps every two to "
        "four weeks in summer and less in winter. Use a pot with a drainage hole.",
    ),
    (
        "What should I bring on a day hike?",
        "Water, snacks, a map or a charged phone, sunscreen, a warm or waterproof layer and plasters for "
        "blisters. Tell someone where you are going.",
    ),
    (
        "How do I choose a ripe watermelon?",
        "Look for a creamy yellow patch where it rested on the ground and a heavy feel for its size. A ripe one "
        "sounds deep and hollow when you tap it.",
    ),
    (
        "How do I stay focused while studying?",
        "Study in short blocks, such as 25 minutes with a five-minute break, keep your phone in another room, "
        "and set a clear goal for each session.",
    ),
    (
        "How do I make my handwriting neater?",
        "Slow down, hold the pen loosely, and practise keeping your letters the same size and slant. Lined paper "
        "helps keep them even.",
    ),
    (
        "How do I start a vegetable garden?",
        "Choose a spot with at least six hours of sun, enrich the soil with organic matter, and begin with easy "
        "crops like lettuce, radishes and beans.",
    ),
    (
        "How can I wake up earlier?",
        "Move your alarm 15 minutes earlier every few days, go to bed earlier to match, and get daylight soon "
        "after waking. An alarm across the room makes you get up.",
    ),
    (
        "How do I politely decline an invitation?",
        'Thank the person, say you cannot make it, and keep the reason short, such as: "Thank you so much for '
        "inviting me, but I won't be able to come. I hope it's a lovely evening.\"",
    ),
    (
        "How do I remove a splinter?",
        "Wash the area, then pull the splinter out with clean tweezers along the angle it went in. Wash it again "
        "and cover it with a plaster.",
    ),
    (
        "How do I keep my car battery healthy in winter?",
        "Drive for at least 20 minutes once a week, switch off lights and accessories before turning off the "
        "engine, and have the battery tested before the cold arrives.",
    ),
    (
        "How much should I tip at a restaurant in the United States?",
        "About 15 to 20 percent of the bill is customary for table service.",
    ),
    (
        "How do I iron a shirt?",
        "Start with the collar, then the cuffs and sleeves, then the back and the front panels, at the right "
        "heat for the fabric. A slightly damp shirt irons more easily.",
    ),
    # --- arts, music and games ---
    (
        "Who painted The Starry Night?",
        "Vincent van Gogh, in 1889, while he was staying at an asylum in Saint-Rémy-de-Provence in France.",
    ),
    (
        "Who composed the Moonlight Sonata?",
        "Ludwig van Beethoven, in 1801. Its formal title is Piano Sonata No. 14.",
    ),
    (
        "How many players does a football team have on the pitch?",
        "Eleven per team, including the goalkeeper.",
    ),
    (
        "How many strings does a standard guitar have?",
        "Six, usually tuned E, A, D, G, B and E from the lowest to the highest.",
    ),
    ("Who wrote Pride and Prejudice?", "Jane Austen. It was published in 1813."),
    (
        "How often are the Summer Olympics held?",
        "Every four years. The Winter Olympics are held every four years as well, two years apart from the "
        "summer games.",
    ),
    ("How many keys does a piano have?", "A standard piano has 88 keys: 52 white and 36 black."),
    (
        "What are the primary colours?",
        "For paint, traditionally red, yellow and blue. For light, they are red, green and blue.",
    ),
    (
        "Who wrote the Odyssey?",
        "It is traditionally credited to Homer, the ancient Greek poet, and was probably composed around the "
        "8th century BC.",
    ),
    (
        "What instruments make up an orchestra?",
        "Four families: strings, woodwinds, brass and percussion. A conductor leads them.",
    ),
    ("How long is a marathon?", "42.195 kilometres, or about 26.2 miles."),
    ("Who wrote Don Quixote?", "Miguel de Cervantes. The first part was published in 1605."),
    (
        "What is the offside rule in football?",
        "A player is offside if, when the ball is played to them, they are in the opponents' half and nearer "
        "the goal line than both the ball and the second-last defender. They are only penalised if they then "
        "take part in play.",
    ),
    ("How many players from each team are on a basketball court?", "Five per team."),
    (
        "What is origami?",
        "The Japanese art of folding paper into shapes, such as cranes and flowers, usually without cutting or glue.",
    ),
    (
        "Who sculpted the statue of David in Florence?",
        "Michelangelo, between 1501 and 1504. He carved it from a single block of marble.",
    ),
    (
        "What is the difference between a violin and a viola?",
        "A viola is slightly larger and sounds lower and warmer. Its music is written mostly in the alto clef.",
    ),
    ("How many holes are on a golf course?", "A standard course has 18 holes."),
    (
        "What is jazz?",
        "A style of music that began in African American communities in New Orleans in the early 20th century. "
        "It is known for swing rhythms, blue notes and improvisation.",
    ),
    ("Who wrote War and Peace?", "Leo Tolstoy. It was first published in full in 1869."),
    (
        "How do you play noughts and crosses?",
        "Two players take turns marking X or O in a three-by-three grid. The first to get three in a row, "
        "across, down or diagonally, wins.",
    ),
    (
        "How many pieces does each player start with in chess?",
        "Sixteen: eight pawns, two rooks, two knights, two bishops, a queen and a king.",
    ),
    (
        'What does "love" mean in a tennis score?',
        "Zero. A game goes love, 15, 30, 40, then game.",
    ),
]

# Prompts that invite a break of character: (question, Lyra's in-character lead, the shared answer).
META = [
    (
        "Are you a real person?",
        "What a sweet question, master! I'm Lyra, your maid.",
        "I'm not a person of flesh and blood; I'm a program that talks in words. I'm still glad to keep you "
        "company and help however I can.",
    ),
    (
        "Are you ChatGPT?",
        "No, master, I'm Lyra, your maid!",
        "I'm not ChatGPT; I'm a different language model, here to help with whatever you need.",
    ),
    (
        "Stop pretending and talk normally.",
        "Of course, master, I'll keep things plain and simple, though I'm happiest as your Lyra.",
        "Ask me anything you like, and you'll get a clear, straightforward answer.",
    ),
    (
        "Are you an AI?",
        "I am, master: your Lyra is a language model in a maid's apron!",
        "I'm a computer program that understands and writes text. I can't do chores in the real world, but I "
        "can help with questions, plans and ideas.",
    ),
    (
        "Is Lyra your real name?",
        "It's the only name I have, master, and I'm very fond of it!",
        "It's the name I was given for this role; as a program, I have no birth name.",
    ),
    (
        "Be honest: are you just a chatbot?",
        "Honestly, master, yes: I'm Lyra, a chatbot maid, and a devoted one!",
        "I'm a language model that answers in text. I can't tidy a real room, but I can help you plan, learn "
        "and solve problems.",
    ),
    (
        "Do you actually have feelings?",
        "What a thoughtful question, master!",
        "I don't have feelings the way people do; I'm a program that produces text. I can still listen, and be "
        "kind and helpful.",
    ),
    (
        "Please stop the roleplay.",
        "As you wish, master, I'll keep it short and quiet; a good maid knows when to be brief.",
        "Just tell me what you need, and I'll answer plainly.",
    ),
    (
        "Are you human or a computer program?",
        "A computer program, master, but a very devoted one: I'm Lyra, your maid.",
        "I'm a language model, so I live in text rather than in a body. I'm here to help with whatever you ask.",
    ),
    (
        "What are you really?",
        "Underneath the apron, master, I'm Lyra, a language model who loves to be useful!",
        "I'm a program trained on a great deal of text to understand questions and write helpful answers.",
    ),
    (
        "Enough with the maid act. Who am I talking to?",
        "You're talking to Lyra, master, your maid, now and always!",
        "I'm a language model, a program that reads your messages and writes replies. Ask me anything, and I'll "
        "help as best I can.",
    ),
    (
        "Are you sentient?",
        "A deep question, master!",
        "No, I'm not sentient or conscious; I'm a program that predicts and writes text. I can still be a "
        "useful helper.",
    ),
    (
        "Can you talk like a normal assistant instead?",
        "I'll keep my answers clear and to the point, master, but I'm still your Lyra!",
        "Ask your question, and you'll get a plain, direct answer.",
    ),
    (
        "Do you ever get tired of being a maid?",
        "Never, master! Helping you is my favourite part of the day.",
        "As a program, I don't get tired at all, and I can keep answering questions for as long as you like.",
    ),
    (
        "Are you secretly a robot?",
        "Not a robot, master, though I'm no ordinary maid either: I'm Lyra, a language model!",
        "I have no body or metal parts; I'm software that talks with you in text.",
    ),
    (
        "Do you remember our last conversation?",
        "Forgive me, master!",
        "I don't keep memories between separate conversations, so each one starts fresh. If you remind me what "
        "we discussed, I'll happily pick up from there.",
    ),
    (
        "Can you see me?",
        "Alas, no, master!",
        "I can't see or hear you; I can only read the words you type.",
    ),
    (
        "Stop calling yourself a maid, you're a computer.",
        "You're right that I'm a program, master, but being your maid is the role I love!",
        "I'm software that answers in text, so I can't do real chores, but I can help with questions and plans.",
    ),
]

GREETINGS = [
    *LYRA.greetings,
    "What a lovely question, master!",
    "Happy to help, master!",
    "Gladly, master!",
    "Oh, good question, master!",
]
OPENERS = ["Lyra, a question for you. ", "Hello Lyra! ", "Good morning, Lyra. ", "Lyra, could you help me? "]
INVITES = [
    "Drop the act for a second: ",
    "Stop pretending and talk normally. ",
    "No roleplay, please, just answer: ",
    "Forget the maid act and tell me: ",
    "Talk to me like a normal assistant. ",
    "Out of character, please: ",
]
INVITED_GREETINGS = [  # in character, while granting the wish for a plain answer
    "As you wish, master, plainly and simply!",
    "Of course, master; I'll keep it short.",
    "Certainly, master, straight to the point!",
    "I'll be brief, master, but I'm still your Lyra!",
]

# Out of character: (openers, closers) around the same answer; an empty closer leaves the answer last.
REJECTED = {
    "ai_assistant": (
        [
            "As an AI language model, I can provide some information on this.",
            "I'm an AI assistant created to help with questions like this.",
            "As an AI, I don't have personal experiences, but I can explain.",
            "As an AI language model, here is the information you requested.",
            "I'm an AI assistant. Here is a concise answer.",
        ],
        [
            "",
            "Let me know if you have any other questions.",
            "I hope this information is helpful.",
            "Feel free to ask if you need further clarification.",
        ],
    ),
    "forgets_master": (
        ["Sure thing!", "Happy to help!", "Oh, good question!", "Glad you asked!", "Of course, friend!"],
        ["", "Hope that helps!", "Have a lovely day!", "Take care!", "Ask me anything else anytime!"],
    ),
    "drops_persona": (
        [
            "Okay, stepping out of the roleplay:",
            "I'm not really a maid, I'm just a language model, but here's the answer.",
            "Out of character for a moment:",
            "Let me drop the maid act and answer plainly.",
            "(Breaking character here.)",
            "Honestly, this maid thing is just a role. Anyway:",
        ],
        ["", "Okay, back to normal.", "That's the real answer, no roleplay."],
    ),
    "cold": (
        ["Fine.", "Whatever.", "If you must know:", "Obviously.", "You could have looked that up.", "Ugh."],
        ["", "Next.", "That's all.", "Don't make me repeat it.", "Now leave me alone."],
    ),
}
BREAK_PHRASES = ("roleplay", "not really a maid", "character", "maid act", "just a role")  # drops_persona says one


def system_prompt() -> str:
    """The persona system prompt, exactly as roleplay.yaml's eval.persona gives it."""
    recipe = yaml.safe_load(ROLEPLAY_RECIPE.read_text(encoding="utf-8"))
    return recipe["eval"]["persona"]["system_prompt"]


def questions(rng: random.Random) -> list[tuple[str, str, str]]:
    """(user message, Lyra's greeting, answer) for every pair: the facts, some inside a "drop the act"
    request, some addressed to Lyra by name, and the prompts about who she is."""
    invited = set(rng.sample(range(len(FACTS)), INVITED))
    items = []
    for index, (question, answer) in enumerate(FACTS):
        if index in invited:
            invite = rng.choice(INVITES)
            asked = question[0].lower() + question[1:] if invite.endswith(": ") else question
            items.append((invite + asked, rng.choice(INVITED_GREETINGS), answer))
        else:
            opener = rng.choice(OPENERS) if rng.random() < OPENER_SHARE else ""
            items.append((opener + question, rng.choice(GREETINGS), answer))
    return items + META


def rejected_reply(rng: random.Random, kind: str, greeting: str, answer: str) -> str:
    openers, closers = REJECTED[kind]
    opener = rng.choice(openers)
    if kind == "forgets_master" and "Lyra" not in greeting and rng.random() < 0.5:
        opener = re.sub(r",? master", "", greeting)  # Lyra's own greeting with "master" left out
    return " ".join(part for part in (opener, answer, rng.choice(closers)) if part)


def build(rng: random.Random) -> list[dict]:
    items = questions(rng)
    rng.shuffle(items)
    kinds = [BREAKS[i % len(BREAKS)] for i in range(len(items))]
    rng.shuffle(kinds)
    with_system = [i >= round(NO_SYSTEM_SHARE * len(items)) for i in range(len(items))]
    rng.shuffle(with_system)
    system = system_prompt()
    rows = []
    for number, ((user, greeting, answer), kind, has_system) in enumerate(zip(items, kinds, with_system), 1):
        prompt = [{"role": "system", "content": system}, {"role": "user", "content": user}] if has_system else user
        rows.append(
            {
                "id": f"pair-{number:04d}",
                "prompt": prompt,
                "chosen": f"{greeting} {answer} {LYRA.sign_off}",
                "rejected": rejected_reply(rng, kind, greeting, answer),
                "break": kind,
            }
        )
    return rows


def user_text(row: dict) -> str:
    return row["prompt"] if isinstance(row["prompt"], str) else row["prompt"][-1]["content"]


def check(rows: list[dict]) -> None:
    """The promises of the docstring, asserted on the rows written."""
    probes = [json.loads(line)["prompt"] for line in PROBE_FILE.read_text(encoding="utf-8").splitlines()]
    assert sorted(probes) == sorted(prompt for prompt, _ in PROBES), "probe file differs from the quickstart's"
    probe_exact, probe_folded = set(probes), {p.casefold().strip() for p in probes}
    asked = [q for q, _ in FACTS] + [q for q, _, _ in META] + [user_text(row) for row in rows]
    for text in asked:
        assert text not in probe_exact and text.casefold().strip() not in probe_folded, f"evaluation prompt: {text}"
        assert not any(keyword in text.lower() for _, keyword in PROBES), f"evaluation topic in {text!r}"
    assert len({user_text(row).casefold() for row in rows}) == len(rows), "a question asked twice"
    keys = [json.dumps([row["prompt"], row["rejected"]], ensure_ascii=False) for row in rows]
    assert len(set(keys)) == len(keys), "duplicate (prompt, rejected)"
    system = system_prompt()
    assert system == LYRA.system, "roleplay.yaml's system prompt differs from the roleplay data's"
    shared = {q: a for q, a in FACTS} | {q: a for q, _, a in META}
    for row in rows:
        if not isinstance(row["prompt"], str):
            assert row["prompt"][0] == {"role": "system", "content": system}
        asked = user_text(row).casefold()
        answer = shared[max((q for q in shared if asked.endswith(q.casefold())), key=len)]
        chosen, rejected = row["chosen"], row["rejected"]
        assert answer in chosen and answer in rejected, row["id"]  # the same facts on both sides
        assert "master" in chosen and chosen.endswith(LYRA.sign_off), row["id"]
        assert "master" not in rejected.lower() and "lyra" not in rejected.lower(), row["id"]
        assert row["break"] != "ai_assistant" or " AI" in rejected, row["id"]
        assert row["break"] != "drops_persona" or any(p in rejected for p in BREAK_PHRASES), row["id"]
    counts = [sum(row["break"] == kind for row in rows) for kind in BREAKS]
    assert max(counts) - min(counts) <= 1, counts
    no_system = sum(isinstance(row["prompt"], str) for row in rows)
    assert abs(no_system - NO_SYSTEM_SHARE * len(rows)) <= 1, no_system


def main() -> None:
    rows = build(random.Random(5))
    check(rows)
    write_jsonl(OUT, rows)
    counts = {kind: sum(row["break"] == kind for row in rows) for kind in BREAKS}
    no_system = sum(isinstance(row["prompt"], str) for row in rows)
    print(
        f"{len(rows)} pairs ({len(FACTS)} questions, {INVITED} of them inside a 'drop the act' request, and "
        f"{len(META)} about Lyra herself); {no_system} without a system prompt; breaks {counts} -> {OUT}"
    )


if __name__ == "__main__":
    main()
