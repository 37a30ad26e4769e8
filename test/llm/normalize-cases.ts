/**
 * The normaliser's two tables (issue 10): replies that must count as one answer, and replies that
 * must stay apart. Shared by test/llm/normalize.test.ts and bench/vote.ts.
 */

/** Each group: replies that are the same answer. */
export const MUST_MERGE: string[][] = [
  ['Paris', 'paris.', '**Paris**', 'The answer is Paris', 'Answer: Paris', '- Paris', '«Paris»', '"Paris"'],
  ['Paris', 'Let me think.\nFrance is in Europe and its capital is well known.\nAnswer: Paris'],
  ['Paris', '**Final answer:** Paris', 'Sure.\nParis', 'PARIS!', '_Paris_', '`Paris`', '  Paris  '],
  ['Lyon', 'Sure.\nLyon'],
  ['1000', '1,000', '1000.0', '1 000', 'Answer: 1,000'],
  ['.5', '0.5', '0.50'],
  ['Yes', 'Yes, because it has bread.', 'yes.', 'YES!', 'Yes. It is.', 'True', 'Yes — a sandwich'],
  ['No', 'no', 'No.', 'False', 'No, it is not.'],
  ['B', '(B)', 'b)', 'The answer is B.', '**B**', 'Option B', '(B) Lyon', 'B) Lyon'],
  ['5 km', '5km', '5 kilometres', '5 KM', '5 kilometers'],
  ['50%', '50 %', '50 percent'],
  ['$5', '5 USD', '5 dollars'],
  ['2024-03-01', '1 March 2024', 'March 1, 2024', 'March 1st, 2024', 'Mar. 1, 2024'],
  ['Five', '5', 'five.'],
  ['-3', '−3'],
  ['2*3', '**2*3**'],
  ['snake_case', '`snake_case`'],
  ['New York', 'new  york', 'New York.'],
  ['Paris', 'Paris, because it is the capital.'],
  ['42', '\\boxed{42}', 'So the answer is 42.'],
]

/** Each pair: replies that are different answers. */
export const MUST_STAY_APART: Array<[string, string]> = [
  ['Sure.\nLyon', 'Sure.\nNice'],
  ['Sure.\nLyon', 'Sure.\nMarseille'],
  ['Sure.\nNice', 'Paris'],
  ['2*3', '23'],
  ['snake_case', 'snakecase'],
  ['Answerable', 'able'],
  ['1000', '100'],
  ['1,5', '15'],
  ['0.5', '5'],
  ['5 km', '5 m'],
  ['5 km', '5 miles'],
  ['5 km', '5'],
  ['5 min', '5 m'],
  ['50%', '50'],
  ['-3', '3'],
  ['Yes', 'No'],
  ['Yes and no', 'Yes'],
  ['No one knows', 'No'],
  ['True', 'False'],
  ['B', 'C'],
  ['(A)', '(B)'],
  ['A cat', 'A'],
  ['C. S. Lewis', 'C'],
  ['March 1, 2024', 'March 2, 2024'],
  ['2024-03-01', '2024'],
  ['01/03/2024', '2024-01-03'],
  ['01/03/2024', '2024-03-01'],
  ['Paris', 'Paris, Texas'],
  ['Paris', 'Lyon'],
  ['New York', 'York'],
  ['the same as before', 'the same as now'],
  ['It has existed since 1990', 'It has existed since 1880'],
  ['Five', 'Fifty'],
  ['one thousand', 'one'],
  ['$5', '5 EUR'],
  ['I', 'It'],
]

/** Replies with no readable answer: they go to the invalid bucket. */
export const INVALID_REPLIES = ['', '   ', '...', '?', '**', '—', '""', '()', 'Answer:', '_(demo)_ ']
