"""Short factual texts with a two-sentence reference summary each, for extractive summarization.

Written for this project in plain encyclopedic English. Every text has one main topic,
a few sentences that develop it and some side remarks, so that a summarizer has to tell
the central sentences from the details. The references are written in their own words
(not copied sentences), as a person would summarize; that is what ROUGE is meant to compare
with, and it keeps even a perfect choice of sentences below a score of 1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Document:
    title: str
    text: str
    summary: str  # the reference, one sentence per line


DOCUMENTS: tuple[Document, ...] = (
    Document(
        "The water cycle",
        "Water on Earth moves in a continuous cycle between the oceans, the air and the land. "
        "The sun heats the surface of the oceans, and water evaporates into the air as vapour. "
        "Plants also release water vapour through their leaves. "
        "As moist air rises, it cools, and the vapour condenses into tiny droplets that form "
        "clouds. "
        "When the droplets grow heavy, they fall back to the ground as rain or snow. "
        "Some of this water flows over the land into rivers, which carry it back to the sea. "
        "The rest soaks into the ground and is stored for years as groundwater. "
        "Because the cycle never stops, the total amount of water on Earth stays almost the "
        "same.",
        "Water moves in a cycle: the sun evaporates it, the vapour cools into clouds and falls "
        "as rain or snow.\n"
        "Rivers and groundwater bring the water back to the sea, so the total amount of water "
        "stays the same.",
    ),
    Document(
        "Honeybees",
        "Honeybees live in colonies that can hold tens of thousands of insects. "
        "Each colony has a single queen, whose task is to lay eggs. "
        "Most of the bees are female workers, and they do almost all the work of the hive. "
        "Young workers clean the cells and feed the larvae, while older workers fly out to "
        "collect nectar and pollen from flowers. "
        "A worker that finds good flowers tells the others with a dance that shows the "
        "direction and the distance. "
        "Back in the hive, the nectar is turned into honey and stored in wax cells. "
        "The male bees, called drones, do not collect food. "
        "By carrying pollen from flower to flower, honeybees pollinate many of the crops that "
        "people eat.",
        "A honeybee colony has one egg-laying queen and thousands of female workers who clean, "
        "feed the larvae and collect nectar and pollen.\n"
        "Workers share where flowers are with a dance, and bees pollinate many food crops.",
    ),
    Document(
        "The printing press",
        "Around 1450, Johannes Gutenberg built a printing press in the German city of Mainz. "
        "His press used movable type: single letters cast in metal that could be arranged "
        "into pages and used again. "
        "Gutenberg also developed an oil-based ink that stuck well to the metal letters. "
        "Before the press, books were copied by hand, which took months for a single volume. "
        "With the press, a workshop could produce hundreds of copies of the same book. "
        "His most famous work is a Latin Bible printed in the 1450s. "
        "Within fifty years, printing workshops had spread to more than two hundred cities in "
        "Europe. "
        "Cheaper books helped ideas travel faster and made reading more common.",
        "Gutenberg built a printing press with movable metal type in Mainz around 1450.\n"
        "Books no longer had to be copied by hand, printing spread across Europe, and cheaper "
        "books made ideas travel faster.",
    ),
    Document(
        "Photosynthesis",
        "Photosynthesis is the process by which plants make their own food from light. "
        "It takes place mainly in the leaves, inside small structures called chloroplasts. "
        "The chloroplasts contain chlorophyll, a green pigment that absorbs light. "
        "Using the energy of the light, the plant combines carbon dioxide from the air with "
        "water from the soil. "
        "The result is sugar, which the plant uses for energy and to build new tissue. "
        "Oxygen is released as a by-product and escapes through tiny pores in the leaves. "
        "Almost all the oxygen in the air was produced in this way. "
        "Autumn leaves turn yellow and red when the plant stops making chlorophyll.",
        "In photosynthesis, plants use light absorbed by chlorophyll to turn carbon dioxide "
        "and water into sugar.\n"
        "The process releases oxygen, and it produced almost all the oxygen in the air.",
    ),
    Document(
        "Volcanoes",
        "A volcano is an opening in the Earth's crust through which molten rock escapes. "
        "Deep underground, rock melts into magma, which is lighter than the solid rock around "
        "it. "
        "The magma rises and collects in a chamber beneath the volcano. "
        "When the pressure in the chamber becomes too high, the volcano erupts. "
        "Some eruptions are quiet flows of lava, while others are violent explosions of ash "
        "and gas. "
        "Most volcanoes lie along the edges of tectonic plates, for example around the Pacific "
        "Ocean. "
        "Volcanic ash makes soil fertile, which is one reason why people farm near volcanoes. "
        "Scientists watch earthquakes and gas emissions to warn people before an eruption.",
        "A volcano erupts when magma that has risen from deep underground builds up too much "
        "pressure, producing lava flows or explosions of ash.\n"
        "Most volcanoes lie at the edges of tectonic plates, and scientists watch them to warn "
        "people.",
    ),
    Document(
        "The Moon",
        "The Moon is the only natural satellite of the Earth. "
        "It orbits the Earth about once every twenty-seven days at a distance of roughly "
        "384,000 kilometres. "
        "The Moon does not shine by itself; it reflects light from the sun. "
        "As it moves around the Earth, we see different parts of its lit side, which causes "
        "the phases from new moon to full moon. "
        "The Moon's gravity pulls on the oceans and causes the tides. "
        "Its surface is covered with craters made by the impacts of rocks from space. "
        "In 1969, the astronauts of Apollo 11 became the first people to walk on the Moon. "
        "The same side of the Moon always faces the Earth.",
        "The Moon orbits the Earth about every twenty-seven days and reflects sunlight, which "
        "gives it phases.\n"
        "Its gravity causes the tides, and people first walked on it in 1969.",
    ),
    Document(
        "Lighthouses",
        "A lighthouse is a tower with a bright light that guides ships near the coast. "
        "Lighthouses mark dangerous rocks, sandbanks and the entrances of harbours. "
        "Early lighthouses burned wood or coal in an open fire at the top of the tower. "
        "Later, oil lamps were combined with large glass lenses that focus the light into a "
        "strong beam. "
        "Each lighthouse flashes in its own pattern, so sailors can tell which one they see. "
        "Many towers are painted with bright stripes to be recognised during the day. "
        "Today, most lighthouses work automatically, and satellite navigation has taken over "
        "much of their role. "
        "Some old lighthouses have become museums.",
        "Lighthouses are towers whose lights guide ships past dangerous places on the coast.\n"
        "Lenses focus the light into a beam with its own flashing pattern, and today most "
        "lighthouses work automatically.",
    ),
    Document(
        "The bicycle",
        "The bicycle is a vehicle with two wheels that is driven by the rider's legs. "
        "An early form without pedals was built by Karl Drais in 1817; the rider pushed it "
        "along with the feet. "
        "Pedals were later attached to the front wheel, which led to machines with a very "
        "large front wheel. "
        "The safety bicycle of the 1880s had two wheels of equal size and a chain that drives "
        "the rear wheel. "
        "Air-filled rubber tyres soon made riding much more comfortable. "
        "This design is still the basis of almost every bicycle today. "
        "Bicycles are cheap, quiet and produce no exhaust gases. "
        "In many cities, people ride them to work every day.",
        "The bicycle began with Karl Drais's machine without pedals in 1817.\n"
        "The safety bicycle of the 1880s, with equal wheels, a chain to the rear wheel and "
        "air-filled tyres, is still the basis of bicycles today.",
    ),
)
